// `tunnel relay` as iroh-relay serves: HTTPS with a plain HTTP listener beside
// it for iroh's captive-portal check, robots.txt and an index page, HSTS over
// TLS, and the certificate reloaded on SIGHUP. Certificates are made for the
// test (openssl) and trusted by the test's own HTTP clients.
import assert from "node:assert/strict";
import { makeSelfSignedCertificate, ManagedProcess, tunnelCommandArgs } from "../harness/mod.ts";
import { haveProgram } from "./_fixtures.ts";

/** A certificate for 127.0.0.1 as PEM text, its files `<dir>/<name>.pem` and `.key`. */
async function certificateText(dir: string, name: string) {
  const files = await makeSelfSignedCertificate(dir, name, "IP:127.0.0.1");
  return { cert: await Deno.readTextFile(files.cert), key: await Deno.readTextFile(files.key) };
}

/** GET `url` over a new connection trusting only `trusted`; the status, or the error. */
async function getTrusting(url: string, trusted: string): Promise<number | string> {
  const client = Deno.createHttpClient({ caCerts: [trusted] });
  try {
    const response = await fetch(url, { client });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return String((error as Error).cause ?? error);
  } finally {
    client.close();
  }
}

async function relayFails(args: string[], readPaths: string[] = []) {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: tunnelCommandArgs(["relay", "--bind", "127.0.0.1:0", "--no-stun", ...args], {
      readPaths,
    }),
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code, text: new TextDecoder().decode(stderr).trim() };
}

Deno.test({
  name: "tunnel relay over TLS: plain HTTP beside it, iroh's pages, HSTS, reload on SIGHUP",
  ignore: !haveProgram("openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tunnel-relay-parity-" });
    try {
      const first = await certificateText(dir, "first");
      const second = await certificateText(dir, "second");
      const certFile = `${dir}/relay.pem`;
      const keyFile = `${dir}/relay.key`;
      await Deno.writeTextFile(certFile, first.cert);
      await Deno.writeTextFile(keyFile, first.key);
      await using relay = ManagedProcess.spawn(Deno.execPath(), {
        args: tunnelCommandArgs([
          "relay",
          "--bind",
          "127.0.0.1:0",
          "--http-bind",
          "127.0.0.1:0",
          "--no-stun",
          "--tls-cert",
          certFile,
          "--tls-key",
          keyFile,
        ], { readPaths: [dir] }),
      });
      const listening = await relay.waitForLine(/^Relay listening on /);
      const https = listening.replace("Relay listening on ", "").replace(/\/$/, "");
      const plainLine = await relay.waitForLine(/^Plain HTTP \(captive-portal check\) on /);
      const plain = plainLine.replace(/^.* on /, "").replace(/\/generate_204$/, "");
      assert.match(plain, /^http:\/\/127\.0\.0\.1:\d+$/);
      await relay.waitForLine("Relay ready");

      // iroh's probe: plain HTTP, a challenge of at most 63 characters echoed.
      const challenge = "ts_" + "r".repeat(60);
      const probe = await fetch(`${plain}/generate_204`, {
        headers: { "X-Iroh-Challenge": challenge },
      });
      assert.equal(probe.status, 204);
      assert.equal(probe.headers.get("x-iroh-response"), `response ${challenge}`);
      assert.equal(probe.headers.get("strict-transport-security"), null);
      const tooLong = await fetch(`${plain}/generate_204`, {
        headers: { "X-Iroh-Challenge": challenge + "x" },
      });
      assert.equal(tooLong.status, 204);
      assert.equal(tooLong.headers.get("x-iroh-response"), null);
      const robots = await fetch(`${plain}/robots.txt`);
      assert.equal(await robots.text(), "User-agent: *\nDisallow: /\n");
      // Nothing of the relay in the clear: not the protocol, records or metrics.
      for (const path of ["/relay", "/pkarr/x", "/metrics", "/healthz", "/"]) {
        const answer = await fetch(`${plain}${path}`);
        await answer.body?.cancel();
        assert.equal(answer.status, 404, path);
      }
      // An upgrade to the relay protocol is refused too (fetch cannot ask for one).
      const plainPort = Number(new URL(plain).port);
      const raw = await Deno.connect({ hostname: "127.0.0.1", port: plainPort });
      try {
        await raw.write(new TextEncoder().encode(
          "GET /relay HTTP/1.1\r\nHost: relay\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
            "Sec-WebSocket-Protocol: iroh-relay-v2\r\n\r\n",
        ));
        const head = new Uint8Array(64);
        const read = await raw.read(head);
        assert.match(new TextDecoder().decode(head.subarray(0, read ?? 0)), /^HTTP\/1\.1 404 /);
      } finally {
        raw.close();
      }

      // HTTPS: the pages, each answer with HSTS.
      const client = Deno.createHttpClient({ caCerts: [first.cert] });
      try {
        for (
          const [path, body] of [["/robots.txt", /Disallow: \//], ["/index.html", /<h1>/]] as const
        ) {
          const answer = await fetch(`${https}${path}`, { client });
          assert.equal(answer.status, 200, path);
          assert.match(await answer.text(), body);
          assert.match(answer.headers.get("strict-transport-security") ?? "", /^max-age=\d+/);
        }
        const generate = await fetch(`${https}/generate_204`, { client });
        await generate.body?.cancel();
        assert.equal(generate.status, 204);
      } finally {
        client.close();
      }

      // SIGHUP: the new pair serves new connections.
      assert.equal(await getTrusting(`${https}/healthz`, first.cert), 200);
      await Deno.writeTextFile(certFile, second.cert);
      await Deno.writeTextFile(keyFile, second.key);
      relay.process.kill("SIGHUP");
      await relay.waitForLine(`TLS certificate reloaded from ${certFile}`);
      assert.equal(await getTrusting(`${https}/healthz`, second.cert), 200);
      assert.match(String(await getTrusting(`${https}/healthz`, first.cert)), /certificate/i);

      // A bad pair (the first certificate with the second key) is refused
      // with one line; the second pair stays in use.
      await Deno.writeTextFile(certFile, first.cert);
      relay.process.kill("SIGHUP");
      const failed = await relay.waitForLine(/TLS reload failed/);
      assert.match(failed, /does not belong to the certificate/);
      assert.equal(await getTrusting(`${https}/healthz`, second.cert), 200);
      await Deno.writeTextFile(certFile, "not a certificate\n");
      relay.process.kill("SIGHUP");
      await relay.waitForLine(/TLS reload failed.*not PEM/);
      assert.equal(await getTrusting(`${https}/healthz`, second.cert), 200);
      assert.equal(relay.lines("stderr").filter((l) => l.includes("TLS reload failed")).length, 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "tunnel relay: --http-bind and TLS files, bad input is one line",
  ignore: !haveProgram("openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tunnel-relay-parity-" });
    try {
      await certificateText(dir, "good");
      await certificateText(dir, "other");
      await Deno.writeTextFile(`${dir}/garbage.pem`, "garbage\n");
      const good = ["--tls-cert", `${dir}/good.pem`, "--tls-key", `${dir}/good.key`];
      for (
        const [args, code, pattern] of [
          [["--http-bind", "127.0.0.1:0"], 2, /--http-bind needs --tls-cert and --tls-key/],
          [[...good, "--http-bind", "nowhere"], 2, /--http-bind address/],
          [
            ["--tls-cert", `${dir}/garbage.pem`, "--tls-key", `${dir}/good.key`],
            2,
            /garbage\.pem.*the certificate is not PEM/,
          ],
          [
            ["--tls-cert", `${dir}/good.pem`, "--tls-key", `${dir}/other.key`],
            2,
            /the key does not belong to the certificate/,
          ],
        ] as const
      ) {
        const { code: exit, text } = await relayFails([...args], [dir]);
        assert.equal(exit, code, text);
        assert.equal(text.split("\n").length, 1, text);
        assert.match(text, pattern);
      }
      // The plain HTTP port taken: one line, and the HTTPS listener is let go.
      const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      try {
        const { code, text } = await relayFails(
          [...good, "--http-bind", `127.0.0.1:${(taken.addr as Deno.NetAddr).port}`],
          [dir],
        );
        assert.equal(code, 1, text);
        assert.equal(text.split("\n").length, 1, text);
        assert.match(
          text,
          /Cannot listen for plain HTTP on 127\.0\.0\.1:\d+: address already in use/,
        );
      } finally {
        taken.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
