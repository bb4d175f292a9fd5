/**
 * Sessions outlive a relay outage (issue 23, item 4): server and client each
 * behind a symmetric NAT, so the relay is their only path. The relay is killed
 * (SIGKILL) mid-transfer for 10 s, then for 20 s, and started again on the same
 * address; each time the 60 MB transfer through the running client arrives
 * intact (SHA-256 both ways) and the client never reports the session lost.
 * Then the server is killed: the client says the session ended within 6 s (its
 * peer stopped answering while the relay link was up).
 */
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import type { ManagedProcess } from "../harness/mod.ts";
import { type Bed, type BedHost, canBuildBeds, createBed } from "./mod.ts";
import {
  BED_PKARR_URL,
  BED_RELAY_URL,
  spawnBedClient,
  startBedEcho,
  startBedRelay,
  startBedServer,
  transferInBed,
} from "./tunnels_in_bed.ts";

const support = await canBuildBeds();
if (!support.ok) console.log(`skipping relay outage tests: ${support.reason}`);
const SIZE = 60_000_000;
const LOST = /Connection to the server lost/;
/**
 * The client's loss line after a server kill: 5 s of silence from the last
 * answer (before the kill), judged every 250 ms, and the line's way to us:
 * issue 23 asks for 6 s.
 */
const LOSS_NOTICED_MS = 6_000;

async function startClient(host: BedHost, args: string[]): Promise<[ManagedProcess, number]> {
  const { proc, localPort } = await spawnBedClient(host, args);
  return [proc, localPort];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a 60 MB transfer, kills the relay once it is under way, keeps it down
 * `downMs`, starts it again; returns the transfer's time once it has arrived intact.
 */
async function transferAcrossOutage(
  bed: Bed,
  relay: { current: ManagedProcess },
  clientHost: BedHost,
  port: number,
  downMs: number,
): Promise<number> {
  let done = false;
  const transfer = transferInBed(clientHost, port, SIZE).finally(() => done = true);
  // The transfer's process starts (~1 s) and moves data before the kill.
  await sleep(1_500);
  assert.equal(done, false, "the transfer ended before the relay was killed");
  await relay.current.stop({ signal: "SIGKILL" });
  await sleep(downMs);
  assert.equal(done, false, "the transfer ended while the relay was down");
  relay.current = await startBedRelay(bed, ["--no-stun", "-v"]);
  return await transfer;
}

Deno.test({
  name:
    "relay outage: a relay-only session outlives the relay killed for 10 s and for 20 s; a killed server is noticed",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const bed = await createBed({ left: "symmetric", right: "symmetric", stun: false });
    const token = generateToken();
    const relay = { current: await startBedRelay(bed, ["--no-stun", "-v"]) };
    try {
      const echo = await startBedEcho(bed.right);
      await using _echo = echo.proc;
      const server = await startBedServer(bed.right, token, ["-v"]);
      await using _server = server.proc;
      const [client, port] = await startClient(bed.left, [
        "--server-node-id",
        server.id,
        "--relay-url",
        BED_RELAY_URL,
        "--dns-server",
        BED_PKARR_URL,
        "--source",
        `tcp://127.0.0.1:${echo.port}`,
        "--auth-token",
        token,
        "-v",
      ]);
      await using _client = client;
      const connected = client.lines("stdout").find((l) => l.startsWith("Connected to server"));
      assert.equal(connected, `Connected to server ${server.id} through relay ${BED_RELAY_URL}`);

      for (const downMs of [10_000, 20_000]) {
        await t.step(
          `relay down ${downMs / 1000} s mid-transfer: 60 MB arrive intact`,
          async () => {
            const ms = await transferAcrossOutage(bed, relay, bed.left, port, downMs).catch(
              (error) => {
                throw new Error(
                  `${error.message}\nclient:\n${client.stderrText()}\nserver:\n${server.proc.stderrText()}`,
                );
              },
            );
            assert.doesNotMatch(client.stderrText(), LOST, "the client kept its session");
            assert.equal(client.exitStatus, undefined, "the client kept running");
            assert.equal(server.proc.exitStatus, undefined, "the server kept running");
            console.log(
              `RESULT | relay killed for ${downMs / 1000} s mid-transfer | 60 MB echoed intact in ${
                (ms / 1000).toFixed(1)
              } s`,
            );
          },
        );
      }

      await t.step("server killed: the client notices within 6 s", async () => {
        // A fresh transfer shows the session carries traffic right before the kill.
        await transferInBed(bed.left, port, 1_000_000);
        const losses = () => client.stderrText().match(new RegExp(LOST, "g"))?.length ?? 0;
        const before = losses();
        const killedAt = performance.now();
        await server.proc.stop({ signal: "SIGKILL" });
        let lostAt: number | undefined;
        while (performance.now() - killedAt < 15_000) {
          if (losses() > before) {
            lostAt = performance.now();
            break;
          }
          await sleep(50);
        }
        assert.ok(lostAt !== undefined, `no loss line within 15 s:\n${client.stderrText()}`);
        const noticedMs = lostAt - killedAt;
        assert.ok(
          noticedMs <= LOSS_NOTICED_MS,
          `noticed ${noticedMs.toFixed(0)} ms after the kill:\n${client.stderrText()}`,
        );
        assert.match(client.stderrText(), /Connection to the server lost: no answer for 5 s/);
        assert.equal(client.exitStatus, undefined, "the client keeps running (reconnecting)");
        console.log(
          `RESULT | server killed on a relay-only path | noticed ${noticedMs.toFixed(0)} ms after`,
        );
      });
    } finally {
      await relay.current.stop();
      await bed.close();
    }
  },
});
