import assert from "node:assert/strict";
import { connectThroughSocks5, Socks5Error } from "./mod.ts";
import { startTestSocks5Server } from "./_socks5_server_fixture.ts";

const proxyAt = (port: number) => ({ hostname: "127.0.0.1", port });

/** A server that greets first (as SSH does), then echoes: no byte may be lost to the proxy. */
function startBannerEcho(banner = "hello\n") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const done = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        try {
          await conn.write(new TextEncoder().encode(banner));
          await conn.readable.pipeTo(conn.writable);
        } catch { /* closed */ }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await done;
    },
  };
}

async function readText(conn: Deno.Conn, length: number): Promise<string> {
  const out = new Uint8Array(length);
  for (let filled = 0; filled < length;) {
    const n = await conn.read(out.subarray(filled));
    if (n === null) throw new Error("closed early");
    filled += n;
  }
  return new TextDecoder().decode(out);
}

/** The Socks5Error `promise` rejects with, and how long it took. */
async function failure(promise: Promise<unknown>): Promise<{ error: Socks5Error; ms: number }> {
  const started = performance.now();
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Socks5Error, String(error));
    assert.doesNotMatch(error.message, /[\r\n]/);
    return { error, ms: performance.now() - started };
  }
  throw new Error("it connected");
}

Deno.test("a name reaches the proxy unresolved; the destination's first bytes are not lost", async () => {
  await using echo = startBannerEcho();
  // "echo.test" resolves nowhere but in the proxy's own table.
  await using proxy = startTestSocks5Server({ hosts: { "echo.test": "127.0.0.1" } });
  const conn = await connectThroughSocks5(proxyAt(proxy.port), {
    hostname: "echo.test",
    port: echo.port,
  });
  try {
    assert.equal(await readText(conn, 6), "hello\n");
    await conn.write(new TextEncoder().encode("ping"));
    assert.equal(await readText(conn, 4), "ping");
  } finally {
    conn.close();
  }
  assert.deepEqual(proxy.requests, [{
    addressType: 3,
    hostname: "echo.test",
    port: echo.port,
    username: undefined,
  }]);
});

Deno.test("username/password: sent to a proxy that demands them; wrong ones are one line", async () => {
  await using echo = startBannerEcho();
  const credentials = { username: "circuit-7", password: "x" };
  await using proxy = startTestSocks5Server({ credentials });
  const conn = await connectThroughSocks5(proxyAt(proxy.port), {
    hostname: "127.0.0.1",
    port: echo.port,
  }, credentials);
  assert.equal(await readText(conn, 6), "hello\n");
  conn.close();
  assert.deepEqual(proxy.requests[0], {
    addressType: 1,
    hostname: "127.0.0.1",
    port: echo.port,
    username: "circuit-7",
  });
  const wrong = await failure(
    connectThroughSocks5(proxyAt(proxy.port), { hostname: "x.test", port: 1 }, {
      username: "circuit-7",
      password: "y",
    }),
  );
  assert.equal(wrong.error.kind, "auth");
  assert.match(wrong.error.message, /rejected the username and password/);
  // Without credentials, the proxy accepts no offered method.
  const none = await failure(
    connectThroughSocks5(proxyAt(proxy.port), { hostname: "x.test", port: 1 }),
  );
  assert.match(none.error.message, /none of the offered authentication methods/);
  await assert.rejects(
    connectThroughSocks5(proxyAt(proxy.port), { hostname: "x.test", port: 1 }, { username: "u" }),
    TypeError,
  );
});

Deno.test("the proxy's refusal: one line naming target, proxy, code and what to do", async () => {
  await using proxy = startTestSocks5Server();
  const { error } = await failure(
    connectThroughSocks5(proxyAt(proxy.port), { hostname: "nowhere.test", port: 80 }),
  );
  assert.equal(error.kind, "refused");
  assert.equal(error.replyCode, 4);
  assert.equal(
    error.message,
    `Cannot connect to nowhere.test:80 through the SOCKS5 proxy 127.0.0.1:${proxy.port}: ` +
      "the proxy refused: host unreachable (0x04); check the address and that the destination " +
      "is up",
  );
  await using onion = startTestSocks5Server({ replyCode: 0xf0 });
  const descriptor = await failure(
    connectThroughSocks5(proxyAt(onion.port), { hostname: "abc.onion", port: 80 }),
  );
  assert.match(descriptor.error.message, /onion service descriptor not found \(0xF0\)/);
});

Deno.test("a closed proxy port fails at once with one line", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const { error, ms } = await failure(
    connectThroughSocks5(proxyAt(port), { hostname: "abc.onion", port: 80 }, { timeoutMs: 5_000 }),
  );
  assert.equal(error.kind, "unreachable");
  assert.match(error.message, /cannot reach the proxy \(.*refused.*\); is it running/i);
  assert.ok(ms < 2_000, `${ms} ms`);
});

Deno.test("deadline: a proxy silent after accepting, after the greeting, or after CONNECT", async () => {
  const cases = [
    ["accept", /did not answer the SOCKS5 handshake within 0.4 s; is it a SOCKS5 proxy\?/],
    // The method chosen, the CONNECT is out: the wait is for the destination now.
    ["greeting", /did not connect within 0.4 s/],
    ["request", /did not connect within 0.4 s \(the destination is slow, down, or a \.onion/],
  ] as const;
  for (const [silentAfter, words] of cases) {
    await using proxy = startTestSocks5Server({ silentAfter });
    const { error, ms } = await failure(
      connectThroughSocks5(proxyAt(proxy.port), { hostname: "slow.onion", port: 80 }, {
        timeoutMs: 400,
      }),
    );
    assert.equal(error.kind, "timeout", silentAfter);
    assert.match(error.message, words);
    assert.ok(ms >= 350 && ms < 2_000, `${silentAfter}: ${ms} ms`);
  }
});

Deno.test("an abort ends the connect with the signal's reason and closes the connection", async () => {
  await using proxy = startTestSocks5Server({ silentAfter: "request" });
  const controller = new AbortController();
  const connecting = connectThroughSocks5(proxyAt(proxy.port), { hostname: "x.onion", port: 1 }, {
    signal: controller.signal,
  });
  while (proxy.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
  controller.abort(new Error("another path won"));
  await assert.rejects(connecting, /another path won/);
  // The proxy's connection ended (its close waits for every connection's end).
  await proxy.close();
  await assert.rejects(
    connectThroughSocks5(proxyAt(proxy.port), { hostname: "x", port: 1 }, {
      signal: AbortSignal.abort(new Error("before")),
    }),
    /before/,
  );
});

Deno.test("a timeout that is not a positive number of milliseconds is refused", async () => {
  for (const timeoutMs of [0, -1, Number.NaN, 2 ** 31]) {
    await assert.rejects(
      connectThroughSocks5(proxyAt(1), { hostname: "x", port: 1 }, { timeoutMs }),
      RangeError,
    );
  }
});
