/**
 * The private Tor network fixture against Debian's tor: it bootstraps within its bound, its
 * tors cannot reach anything beyond their namespace's loopback, an HTTP server on loopback
 * answers curl through an onion service (socks5h), a checksummed 1 MB crosses a plain TCP
 * echo through another, a restarted onion service answers again, bad input and broken bounds
 * give one line, and nothing is left behind (no tor, namespace or scratch directory).
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { run } from "./command.ts";
import { listNamespaces } from "./namespaces.ts";
import {
  MAX_HIDDEN_SERVICES,
  MAX_TOR_CLIENTS,
  socks5Connect,
  startTorNetwork,
  type TorNetworkOptions,
  torNetworkUnsupported,
} from "./mod.ts";

const unsupported = torNetworkUnsupported();
if (unsupported) console.log(`skipping tor network tests: ${unsupported}`);

/** Asserts `promise` rejects with one line that matches `pattern`; returns the message. */
async function rejectsOneLine(promise: Promise<unknown>, pattern: RegExp): Promise<string> {
  let message = "";
  await rejects(promise, (e: Error) => {
    message = e.message;
    return true;
  });
  assert(!message.includes("\n"), `not one line: ${message}`);
  assert(pattern.test(message), `unexpected message: ${message}`);
  return message;
}

/** Tor processes, namespaces and scratch directories this test process has left. */
async function leftovers(): Promise<string[]> {
  const mine = `tnb-${Deno.pid}-`;
  const found = (await listNamespaces()).filter((n) => n.startsWith(mine));
  for await (const entry of Deno.readDir(Deno.env.get("TMPDIR") || "/tmp")) {
    if (entry.name.startsWith(mine)) found.push(entry.name);
  }
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (/^(\S*\/)?tor\0/.test(cmdline) && cmdline.includes(`/${mine}`)) {
      found.push(`tor pid ${entry.name}`);
    }
  }
  return found;
}

Deno.test("bad options are refused with one line before anything starts", async () => {
  const good: TorNetworkOptions = { hiddenServices: [{ port: 8080 }], clients: 1 };
  const cases: [Partial<TorNetworkOptions>, RegExp][] = [
    [{ clients: 0 }, /clients must be an integer from 1 to 8 \(got 0\)/],
    [{ clients: MAX_TOR_CLIENTS + 1 }, /clients must be an integer from 1 to 8 \(got 9\)/],
    [{ clients: 1.5 }, /clients must be an integer/],
    [{ hiddenServices: [] }, /hiddenServices needs 1 to 4 entries \(got 0\)/],
    [
      { hiddenServices: Array(MAX_HIDDEN_SERVICES + 1).fill({ port: 80 }) },
      /hiddenServices needs 1 to 4 entries \(got 5\)/,
    ],
    [{ hiddenServices: [{ port: 0 }] }, /hidden service 0: port must be .* \(got 0\)/],
    [{ hiddenServices: [{ port: 70000 }] }, /hidden service 0: port must be .* \(got 70000\)/],
    [{ hiddenServices: [{ port: 80, virtualPort: -1 }] }, /virtualPort must be/],
    [{ socksPorts: [9050, 9051] }, /socksPorts needs one port per client \(1, got 2\)/],
    [{ clients: 2, socksPorts: [9050, 9050] }, /socksPorts repeats a port/],
    [{ socksPorts: [65536] }, /socksPorts: 65536 is not a port/],
    [{ timeoutMs: 0 }, /timeoutMs must be a positive number \(got 0\)/],
  ];
  for (const [change, pattern] of cases) {
    await rejectsOneLine(startTorNetwork({ ...good, ...change }), pattern);
  }
});

Deno.test("socks5Connect gives up on a silent proxy after its bound", async () => {
  // A "proxy" that accepts and never answers the greeting.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })().catch(() => {});
  try {
    const started = Date.now();
    await rejectsOneLine(
      socks5Connect({ hostname: "127.0.0.1", port: silent.addr.port }, "x.onion", 80, 500),
      /timed out after 500 ms/,
    );
    const took = Date.now() - started;
    assert(took >= 450 && took < 3_000, `took ${took} ms`);
  } finally {
    silent.close();
    await accepting;
    held.forEach((c) => c.close());
  }
});

Deno.test({
  name: "a SOCKS port in use is refused with one line and nothing is started",
  ignore: unsupported !== undefined,
  fn: async () => {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = taken.addr.port;
      await rejectsOneLine(
        startTorNetwork({ hiddenServices: [{ port: 8080 }], clients: 1, socksPorts: [port] }),
        new RegExp(`^tor network: client 0's SOCKS port: 127\\.0\\.0\\.1:${port} is in use$`),
      );
      assertEquals(await leftovers(), []);
    } finally {
      taken.close();
    }
  },
});

Deno.test({
  name: "a TMPDIR too deep for Unix socket paths is refused with one line",
  ignore: unsupported !== undefined,
  fn: async () => {
    const original = Deno.env.get("TMPDIR");
    const deep = `/tmp/tnb-tor-deep-${Deno.pid}-${"d".repeat(60)}`;
    await Deno.mkdir(deep);
    Deno.env.set("TMPDIR", deep);
    try {
      await rejectsOneLine(
        startTorNetwork({ hiddenServices: [{ port: 8080 }], clients: 1 }),
        /too deep for Unix socket paths \(107 bytes at most\): set a shorter TMPDIR$/,
      );
      assertEquals([...Deno.readDirSync(deep)], []);
    } finally {
      if (original === undefined) Deno.env.delete("TMPDIR");
      else Deno.env.set("TMPDIR", original);
      await Deno.remove(deep, { recursive: true });
    }
    assertEquals(await leftovers(), []);
  },
});

Deno.test({
  name: "a bootstrap bound too short fails with one line and leaves nothing behind",
  ignore: unsupported !== undefined,
  fn: async () => {
    const started = Date.now();
    // 3 s: the authorities' first consensus alone takes one 10 s voting interval.
    await rejectsOneLine(
      startTorNetwork({ hiddenServices: [{ port: 8080 }], clients: 1, timeoutMs: 3_000 }),
      /^tor network: not bootstrapped: tor client0 at \d+%/,
    );
    const took = Date.now() - started;
    assert(took < 15_000, `took ${took} ms to give up`);
    assertEquals(await leftovers(), []);
  },
});

/** Resident memory (kB) and CPU time (s) of the processes `pids`, from /proc. */
async function cost(pids: number[]): Promise<{ rssKb: number; cpuSeconds: number }> {
  let rssKb = 0;
  let ticks = 0;
  for (const pid of pids) {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): utime, stime.
    const stat = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1].split(" ");
    ticks += Number(stat[11]) + Number(stat[12]);
  }
  return { rssKb, cpuSeconds: ticks / 100 };
}

async function curlThrough(proxy: { hostname: string; port: number }, url: string) {
  return await run([
    "curl",
    "--silent",
    "--show-error",
    "--max-time",
    "60",
    "--socks5-hostname",
    `${proxy.hostname}:${proxy.port}`,
    url,
  ], { timeoutMs: 70_000 });
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Sends `payload` through the echo behind `onion:port` and returns what came back. */
async function echoThrough(
  proxy: { hostname: string; port: number },
  onion: string,
  port: number,
  payload: Uint8Array,
): Promise<Uint8Array> {
  const conn = await socks5Connect(proxy, onion, port, 60_000);
  try {
    const received = new Uint8Array(payload.length);
    let got = 0;
    const reading = (async () => {
      while (got < payload.length) {
        const n = await conn.read(received.subarray(got));
        if (n === null) break;
        got += n;
      }
    })();
    let sent = 0;
    while (sent < payload.length) sent += await conn.write(payload.subarray(sent));
    await reading;
    return received.subarray(0, got);
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "private Tor network: bootstrap, isolation, HTTP and 1 MB echo through onions, restart",
  ignore: unsupported !== undefined,
  fn: async (t) => {
    let requests = 0;
    const token = crypto.randomUUID();
    const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
      requests++;
      return new Response(`hello over tor ${token}\n`);
    });
    const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const echoing = (async () => {
      for await (const conn of echo) {
        conn.readable.pipeTo(conn.writable).catch(() => {});
      }
    })().catch(() => {});
    const started = Date.now();
    const tor = await startTorNetwork({
      hiddenServices: [{ port: http.addr.port, virtualPort: 80 }, {
        port: echo.addr.port,
        virtualPort: 7,
      }],
      clients: 2,
    });
    const bootstrapMs = Date.now() - started;
    try {
      console.log(`bootstrap (3 authorities, 5 relays, 2 services, 2 clients): ${bootstrapMs} ms`);
      console.log(`cost after bootstrap: ${JSON.stringify(await cost(tor.pids()))}`);
      assert(/^[a-z2-7]{56}\.onion$/.test(tor.onion(0)), tor.onion(0));
      assert(tor.onion(0) !== tor.onion(1));

      await t.step("every tor is inside a namespace with only a loopback", async () => {
        const inside = new Set(
          (await run(["ip", "netns", "pids", tor.namespace])).stdout.split("\n").map(Number),
        );
        for (const pid of tor.pids()) assert(inside.has(pid), `tor ${pid} outside`);
        const links = (await run(["ip", "-n", tor.namespace, "-o", "link"])).stdout.trim();
        assertEquals(links.split("\n").map((l) => l.split(": ")[1]), ["lo"]);
        const routes = (await run(["ip", "-n", tor.namespace, "route", "show", "table", "all"]))
          .stdout.trim().split("\n").filter((l) => l);
        for (const route of routes) assert(/ dev lo /.test(route), `route off loopback: ${route}`);
        const sockets = (await run(["ip", "netns", "exec", tor.namespace, "ss", "-Htan"])).stdout;
        for (const line of sockets.trim().split("\n").filter((l) => l)) {
          const [, , , local, peer] = line.trim().split(/\s+/);
          assert(local.startsWith("127.0.0.1:"), `socket on ${local}`);
          assert(peer === "0.0.0.0:*" || peer.startsWith("127.0.0.1:"), `peer ${peer}`);
        }
      });

      await t.step("curl --socks5-hostname reaches the HTTP server behind onion 0", async () => {
        for (const client of [0, 1]) {
          const result = await curlThrough(tor.socks(client), `http://${tor.onion(0)}/`);
          assertEquals(result.code, 0, result.stderr);
          assertEquals(result.stdout, `hello over tor ${token}\n`);
        }
        // The harness's reachability probes use another onion port: the server saw only curl.
        assertEquals(requests, 2);
      });

      await t.step("a checksummed 1 MB crosses the TCP echo behind onion 1", async () => {
        const payload = new Uint8Array(1 << 20);
        // getRandomValues fills at most 64 KiB per call.
        for (let i = 0; i < payload.length; i += 65536) {
          crypto.getRandomValues(payload.subarray(i, i + 65536));
        }
        const began = Date.now();
        const back = await echoThrough(tor.socks(1), tor.onion(1), 7, payload);
        console.log(`1 MB echo round trip: ${Date.now() - began} ms`);
        assertEquals(back.length, payload.length);
        assertEquals(await sha256(back), await sha256(payload));
      });

      await t.step("a restart bound too short gives one line; the network survives", async () => {
        const began = Date.now();
        await rejectsOneLine(
          tor.restartHiddenService(0, { timeoutMs: 200 }),
          /^tor network: restart of hidden service 0: /,
        );
        assert(Date.now() - began < 8_000, `gave up after ${Date.now() - began} ms`);
      });

      await t.step("after restartHiddenService the onion answers again", async () => {
        const before = tor.onion(0);
        const began = Date.now();
        await tor.restartHiddenService(0);
        console.log(`restart of onion 0 until it answers again: ${Date.now() - began} ms`);
        assertEquals(tor.onion(0), before);
        const result = await curlThrough(tor.socks(0), `http://${tor.onion(0)}/`);
        assertEquals(result.code, 0, result.stderr);
        assertEquals(result.stdout, `hello over tor ${token}\n`);
      });

      await t.step("without probing, a client finds a restarted onion by itself", async () => {
        const began = Date.now();
        await tor.restartHiddenService(1, { probe: false });
        const restarted = Date.now() - began;
        const payload = crypto.getRandomValues(new Uint8Array(4096));
        let back: Uint8Array | undefined;
        let last = "";
        while (!back && Date.now() - began < 90_000) {
          try {
            back = await echoThrough(tor.socks(1), tor.onion(1), 7, payload);
          } catch (e) {
            last = (e as Error).message;
            await new Promise((r) => setTimeout(r, 1_000));
          }
        }
        assert(back, `onion 1 never answered again: ${last}`);
        assertEquals(await sha256(back), await sha256(payload));
        console.log(
          `restart of onion 1: tor back in ${restarted} ms, client through after ` +
            `${Date.now() - began} ms`,
        );
      });
      console.log(`cost at the end: ${JSON.stringify(await cost(tor.pids()))}`);
    } finally {
      await tor.stop();
      await http.shutdown();
      echo.close();
      await echoing;
    }
    assertEquals(await leftovers(), []);
  },
});
