// iroh mode through `tunnel relay` over HTTPS (wss://): a certificate made for
// the test, trusted by server and client through DENO_CERT.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
  ManagedProcess,
  runCommand,
  startClient,
  startServer,
  startTcpEchoServer,
  transferPayload,
  tunnelCommandArgs,
} from "../harness/mod.ts";
import { haveProgram } from "./_fixtures.ts";

async function makeCertificate(dir: string) {
  const made = await runCommand("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      // Its own trust anchor, presented as a server certificate: not a CA.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-days",
      "1",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ],
    timeoutMs: 20_000,
  });
  assert.equal(made.code, 0, made.stderr);
  return { cert: `${dir}/cert.pem`, key: `${dir}/key.pem` };
}

Deno.test({
  name: "through the relay over HTTPS: wss:// relay path and pkarr over https",
  ignore: !haveProgram("openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tunnel-tls-" });
    try {
      const { cert, key } = await makeCertificate(dir);
      await using relay = ManagedProcess.spawn(Deno.execPath(), {
        args: tunnelCommandArgs(
          ["relay", "--bind", "127.0.0.1:0", "--no-stun", "--tls-cert", cert, "--tls-key", key],
          { readPaths: [dir] },
        ),
      });
      const line = await relay.waitForLine(/^Relay listening on /, { timeoutMs: 20_000 });
      const url = line.replace("Relay listening on ", "");
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
      await relay.waitForLine("Relay ready", { timeoutMs: 20_000 });

      const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(cert)] });
      try {
        const health = await fetch(`${url}healthz`, { client });
        assert.equal(health.status, 200);
        await health.body?.cancel();
      } finally {
        client.close();
      }

      const env = { DENO_CERT: cert };
      const token = generateToken();
      await using echo = startTcpEchoServer();
      await using server = await startServer({
        authTokens: token,
        env,
        extraArgs: ["--relay-url", url, "--dns-server", `${url}pkarr`, "--relay-only"],
      });
      await using tunnel = await startClient({
        serverNodeId: server.endpointId,
        source: `tcp://127.0.0.1:${echo.port}`,
        authToken: token,
        env,
        extraArgs: ["--dns-server", `${url}pkarr`, "--relay-only"],
      });
      assert.ok(
        tunnel.lines().some((l) => l.includes(`through relay ${url}`)),
        tunnel.lines().join("\n"),
      );
      const { sent, received } = await transferPayload(tunnel.localPort, 4 << 20);
      assert.equal(received.sha256, sent.sha256);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
