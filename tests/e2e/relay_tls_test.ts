// iroh mode through `tunnel relay` over HTTPS (wss://): a certificate made for
// the test, trusted by server and client through DENO_CERT.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
  makeSelfSignedCertificate,
  ManagedProcess,
  startClient,
  startServer,
  startTcpEchoServer,
  transferPayload,
  tunnelCommandArgs,
} from "../harness/mod.ts";
import { haveProgram } from "./_fixtures.ts";

Deno.test({
  name: "through the relay over HTTPS: wss:// relay path and pkarr over https",
  ignore: !haveProgram("openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tunnel-tls-" });
    try {
      const { cert, key } = await makeSelfSignedCertificate(dir, "relay", "IP:127.0.0.1");
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
