// core/socks against real proxies: Debian's tor (offline: its only directory authority is a
// closed loopback port, no fallback directories, so it never reaches the Tor network; tor's
// DisableNetwork 1 would close its SocksPort too) and OpenSSH's `ssh -D` (a SOCKS5 proxy that
// is not Tor). checkTorProxy's other refusals are in core/socks/tor_check_test.ts.
import assert from "node:assert/strict";
import { checkTorProxy, connectThroughSocks5, Socks5Error } from "../../core/socks/mod.ts";
import {
  freePort,
  ManagedProcess,
  startSshd,
  startTcpEchoServer,
  waitForTcpListener,
} from "../harness/mod.ts";
import { haveProgram } from "./_fixtures.ts";

const READY = /Opened Socks listener connection \(ready\) on 127\.0\.0\.1:(\d+)/;

/** A tor client with a SocksPort on loopback that cannot reach any Tor network. */
async function startOfflineTor(): Promise<{ port: number } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "tunnel-tor-" });
  await Deno.chmod(dir, 0o700);
  const torrc = [
    `DataDirectory ${dir}/data`,
    "SocksPort 127.0.0.1:auto ExtendedErrors",
    // The only directory authority is a closed loopback port, and no fallback directory is
    // used: this tor has no way to the public network.
    "DirAuthority nowhere orport=9 no-v2 v3ident=0000000000000000000000000000000000000001 " +
    "127.0.0.1:9 0000000000000000000000000000000000000002",
    "UseDefaultFallbackDirs 0",
    "ClientUseIPv6 0",
    "Log notice stdout",
    "AvoidDiskWrites 1",
  ].join("\n");
  await Deno.writeTextFile(`${dir}/torrc`, torrc);
  await Deno.writeTextFile(`${dir}/defaults`, "");
  const tor = ManagedProcess.spawn("tor", {
    args: ["-f", `${dir}/torrc`, "--defaults-torrc", `${dir}/defaults`],
    stopSignal: "SIGTERM",
  });
  const stop = async () => {
    await tor.stop();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const line = await tor.waitForLine(READY, { timeoutMs: 30_000 });
    return { port: Number(READY.exec(line)![1]), [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs `fn` and says how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

Deno.test({
  name:
    "real tor (offline): it is Tor; an invalid onion is refused with 0xF6; a slow one times out",
  ignore: !haveProgram("tor"),
  async fn() {
    await using tor = await startOfflineTor();
    const proxy = { hostname: "127.0.0.1", port: tor.port };
    assert.deepEqual(await checkTorProxy(proxy, { timeoutMs: 5_000 }), { ok: true });

    // Tor checks a v3 address's checksum itself: a wrong one is refused at once.
    await assert.rejects(
      connectThroughSocks5(proxy, { hostname: `${"a".repeat(56)}.onion`, port: 80 }),
      (error: Socks5Error) => {
        assert.equal(error.kind, "refused");
        assert.equal(error.replyCode, 0xf6);
        assert.match(error.message, /the proxy refused: invalid onion address \(0xF6\)/);
        return true;
      },
    );
    // A well-formed address (a valid key) this tor cannot reach without a network: Tor keeps
    // the request open for minutes; the deadline ends it.
    const onion = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion";
    const { value: error, ms } = await timed(() =>
      connectThroughSocks5(proxy, { hostname: onion, port: 80 }, { timeoutMs: 1_500 }).then(
        () => undefined,
        (e: Socks5Error) => e,
      )
    );
    assert.ok(error instanceof Socks5Error, String(error));
    assert.equal(error.kind, "timeout");
    assert.match(error.message, new RegExp(`^Cannot connect to ${onion}:80 through the SOCKS5`));
    assert.match(error.message, /did not connect within 1.5 s/);
    assert.ok(ms >= 1_400 && ms < 4_000, `${ms} ms`);
  },
});

Deno.test({
  name: "ssh -D: a real SOCKS5 proxy carries a connection, and is not Tor",
  ignore: !haveProgram("sshd") || !haveProgram("ssh"),
  async fn() {
    await using sshd = await startSshd();
    await using echo = startTcpEchoServer();
    const socksPort = freePort();
    await using ssh = ManagedProcess.spawn("ssh", {
      args: ["-N", "-D", `127.0.0.1:${socksPort}`, ...sshd.sshArgs()],
      stopSignal: "SIGTERM",
    });
    await waitForTcpListener(socksPort, { timeoutMs: 15_000 });
    const proxy = { hostname: "127.0.0.1", port: socksPort };

    // The name goes to ssh unresolved; sshd resolves it at its end.
    const conn = await connectThroughSocks5(proxy, { hostname: "localhost", port: echo.port }, {
      timeoutMs: 10_000,
    });
    try {
      await conn.write(new TextEncoder().encode("through ssh"));
      const got = new Uint8Array(11);
      for (let n = 0; n < got.length;) n += (await conn.read(got.subarray(n)))!;
      assert.equal(new TextDecoder().decode(got), "through ssh");
    } finally {
      conn.close();
    }

    const check = await checkTorProxy(proxy, { timeoutMs: 3_000 });
    assert.equal(check.ok, false);
    assert.match(
      (check as { error: string }).error,
      /^not Tor: the proxy closed the connection without answering an HTTP request \(Tor answers 'HTTP\/1\.0 501 Tor is not an HTTP Proxy'\)$/,
    );
    assert.ok(ssh.exitStatus === undefined, "ssh -D is still running");
  },
});
