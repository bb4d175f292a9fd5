/**
 * iroh mode through `tunnel relay` across real NATs: server and client each
 * behind a symmetric NAT (no direct path exists), the relay on the public
 * segment. The client is given the EndpointId, the relay and the pkarr relay;
 * SSH and a 20 MB checksummed transfer pass. Then the relay is killed and
 * restarted: both sides reconnect by themselves, the running client carries
 * new connections again, and a new client finds the server (which republished
 * its record to the restarted relay).
 */
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { type ManagedProcess, runCommand, startSshd } from "../harness/mod.ts";
import { type BedHost, canBuildBeds, createBed } from "./mod.ts";
import {
  BED_PKARR_URL,
  BED_RELAY_URL,
  inNamespace,
  spawnBedClient,
  startBedEcho,
  startBedRelay,
  startBedServer,
  transferInBed,
} from "./tunnels_in_bed.ts";

const support = await canBuildBeds();
if (!support.ok) console.log(`skipping relay NAT tests: ${support.reason}`);
const SIZE = 20_000_000;

async function startClient(host: BedHost, args: string[]): Promise<[ManagedProcess, number]> {
  const { proc, localPort } = await spawnBedClient(host, args);
  return [proc, localPort];
}

Deno.test({
  name: "relay: symmetric NAT on both sides, client knows only the EndpointId; relay restart",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const bed = await createBed({ left: "symmetric", right: "symmetric", stun: false });
    const token = generateToken();
    try {
      let relay = await startBedRelay(bed, ["--no-stun", "-v"]);
      const server = bed.right;
      const clientHost = bed.left;
      await using sshd = await startSshd({ wrap: ["ip", ...inNamespace(server.ns, [])] });
      const echo = await startBedEcho(server);
      await using _echo = echo.proc;
      const tunnelServer = await startBedServer(server, token);
      await using _server = tunnelServer.proc;
      const id = tunnelServer.id;
      const byId = (source: string) => [
        "--server-node-id",
        id,
        "--relay-url",
        BED_RELAY_URL,
        "--dns-server",
        BED_PKARR_URL,
        "--source",
        source,
        "--auth-token",
        token,
      ];

      const started = performance.now();
      const [sshClient, sshPort] = await startClient(
        clientHost,
        byId(`tcp://127.0.0.1:${sshd.port}`),
      );
      await using _ssh = sshClient;
      const setupMs = performance.now() - started;
      const connected = sshClient.lines("stdout").find((l) => l.startsWith("Connected to server"));
      assert.equal(connected, `Connected to server ${id} through relay ${BED_RELAY_URL}`);
      const remote = await runCommand("ip", {
        args: inNamespace(clientHost.ns, ["ssh", ...sshd.sshArgs(sshPort), "echo", "via-relay"]),
        timeoutMs: 30_000,
      });
      assert.equal(remote.code, 0, remote.stderr);
      assert.equal(remote.stdout.trim(), "via-relay");

      const [bulkClient, bulkPort] = await startClient(
        clientHost,
        byId(`tcp://127.0.0.1:${echo.port}`),
      );
      await using _bulk = bulkClient;
      const bulkMs = await transferInBed(clientHost, bulkPort, SIZE);

      // Restart the relay: kill -9, start again on the same address at once.
      await relay.stop({ signal: "SIGKILL" });
      const downAt = performance.now();
      relay = await startBedRelay(bed, ["--no-stun", "-v"]);
      await using _relay = relay;
      // The server and both clients' relay connections come back by themselves.
      let seen = 0;
      await relay.waitForLine(
        (line) => /relay: client \S+ connected/.test(line) && ++seen === 3,
        { stream: "stderr", timeoutMs: 30_000 },
      ).catch((error) => {
        throw new Error(`relay saw ${seen} of 3 clients come back: ${error.message}`);
      });
      const backMs = performance.now() - downAt;
      // New connections through the running tunnels work again.
      await transferInBed(clientHost, bulkPort, 1_000_000);
      const again = await runCommand("ip", {
        args: inNamespace(clientHost.ns, ["ssh", ...sshd.sshArgs(sshPort), "echo", "again"]),
        timeoutMs: 30_000,
      });
      assert.equal(again.code, 0, again.stderr);
      // The server republished to the restarted (empty) pkarr store: a new client finds it.
      const [fresh, freshPort] = await startClient(clientHost, [
        "--server-node-id",
        id,
        "--dns-server",
        BED_PKARR_URL,
        "--source",
        `tcp://127.0.0.1:${echo.port}`,
        "--auth-token",
        token,
      ]);
      await using _fresh = fresh;
      await transferInBed(clientHost, freshPort, 1_000_000);
      assert.equal(sshClient.exitStatus, undefined, "the first client kept running");
      console.log(
        `RESULT | symmetric x symmetric via tunnel relay | setup ${setupMs.toFixed(0)} ms | ` +
          `20 MB in ${bulkMs.toFixed(0)} ms | relay restart: all back in ${backMs.toFixed(0)} ms`,
      );
    } finally {
      await bed.close();
    }
  },
});
