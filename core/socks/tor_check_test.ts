// checkTorProxy against what is not Tor (a real tor and ssh -D: tests/e2e/socks_proxies_test.ts).
import assert from "node:assert/strict";
import { checkTorProxy, TOR_HTTP_ANSWER } from "./mod.ts";

/** A listener on 127.0.0.1 whose every connection gets `answer` (or nothing), then is held. */
function startAnswering(answer?: Uint8Array) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      held.push(conn);
      if (answer) conn.write(answer).catch(() => {});
    }
  })().catch(() => {});
  return {
    proxy: { hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of held) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await accepting;
    },
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

const TOR_SAYS = `(Tor answers '${TOR_HTTP_ANSWER}')`;

Deno.test("checkTorProxy: a closed port cannot be reached, in one line", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const check = await checkTorProxy({ hostname: "127.0.0.1", port }, { timeoutMs: 2_000 });
  assert.equal(check.ok, false);
  assert.match(
    (check as { error: string }).error,
    new RegExp(
      `^cannot reach the proxy 127\\.0\\.0\\.1:${port} \\(.*refused.*\\); is it running`,
      "i",
    ),
  );
});

Deno.test("checkTorProxy: a listener that says nothing is not Tor, after the deadline", async () => {
  await using silent = startAnswering();
  const { value, ms } = await timed(() => checkTorProxy(silent.proxy, { timeoutMs: 500 }));
  assert.deepEqual(value, {
    ok: false,
    error: `not Tor: the proxy answered nothing to an HTTP request within 0.5 s ${TOR_SAYS}`,
  });
  assert.ok(ms >= 450 && ms < 2_000, `${ms} ms`);
});

Deno.test("checkTorProxy: an HTTP server is not Tor, and its status line says so", async () => {
  await using http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("no", { status: 404 }),
  );
  const check = await checkTorProxy({ hostname: "127.0.0.1", port: http.addr.port });
  assert.match(
    (check as { error: string }).error,
    /^not Tor: the proxy answered an HTTP request with 'HTTP\/1\.[01] 404 Not Found' \(Tor/,
  );
});

Deno.test("checkTorProxy: an endless line is read up to 512 bytes; binary is shown as hex", async () => {
  // 1 MiB without a line end: the check stops reading at its bound and says what came.
  await using endless = startAnswering(new Uint8Array(1 << 20).fill(0x41));
  const { value, ms } = await timed(() => checkTorProxy(endless.proxy, { timeoutMs: 5_000 }));
  assert.deepEqual(value, {
    ok: false,
    error: `not Tor: the proxy answered an HTTP request with '${"A".repeat(80)}' ${TOR_SAYS}`,
  });
  assert.ok(ms < 2_000, `${ms} ms: it did not wait for the deadline`);
  await using binary = startAnswering(Uint8Array.of(5, 0xff, 0, 1, 2, 3, 4, 5, 6, 10));
  const hex = await checkTorProxy(binary.proxy, { timeoutMs: 5_000 });
  assert.deepEqual(hex, {
    ok: false,
    error: "not Tor: the proxy answered an HTTP request with 0x05 0xFF 0x00 0x01 0x02 0x03 " +
      `0x04 0x05 ... ${TOR_SAYS}`,
  });
});

Deno.test("checkTorProxy: Tor's HTTP line alone is not enough, a SOCKS5 greeting must pass", async () => {
  await using fake = startAnswering(new TextEncoder().encode(`${TOR_HTTP_ANSWER}\r\n\r\n`));
  const check = await checkTorProxy(fake.proxy, { timeoutMs: 500 });
  assert.deepEqual(check, {
    ok: false,
    error: `not Tor: the proxy looks like Tor over HTTP but answered '${TOR_HTTP_ANSWER}' to a ` +
      "SOCKS5 greeting (Tor answers 0x05 0x00)",
  });
});

Deno.test("checkTorProxy: a timeout that is not a positive number of milliseconds is refused", async () => {
  for (const timeoutMs of [0, -5, Number.NaN, Infinity]) {
    await assert.rejects(
      checkTorProxy({ hostname: "127.0.0.1", port: 1 }, { timeoutMs }),
      RangeError,
    );
  }
});
