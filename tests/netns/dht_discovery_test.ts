/**
 * Discovery through the Mainline DHT across real NATs, with another
 * implementation's nodes: a private DHT of npm bittorrent-dht nodes on the bed's
 * public segment (tests/netns/dht_swarm.ts), `tunnel relay` beside them, a
 * server behind a symmetric NAT and a client behind another. Nothing but the
 * EndpointId and one bootstrap node is given to the client:
 * - our server's record, put by our read-only node, is read and checked by the
 *   independent tools (bittorrent-dht + npm pkarr), and our client finds it and
 *   connects through the relay it names;
 * - a record the independent side signed (pkarr's code, the server's seed) and put
 *   is resolved by our client, which then connects through the relay it names.
 */
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { endpointIdToZ32 } from "../../core/discovery/mod.ts";
import { EndpointId, SecretKey } from "../../core/identity/mod.ts";
import {
  canBuildBeds,
  createBed,
  independentGet,
  independentPut,
  startDhtSwarm,
  sweepStaleBeds,
} from "./mod.ts";
import {
  BED_RELAY_URL,
  spawnBedClient,
  startBedEcho,
  startBedRelay,
  startBedServer,
  transferInBed,
} from "./tunnels_in_bed.ts";

const support = await canBuildBeds({ stun: false });
if (!support.ok) console.log(`skipping DHT discovery: ${support.reason}`);
else await sweepStaleBeds();

const SIZE = 5_000_000;

Deno.test({
  name:
    "DHT discovery behind NAT: our record read by bittorrent-dht and pkarr; theirs resolved by our client; both connect through the named relay",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const bed = await createBed({ left: "symmetric", right: "symmetric", stun: false });
    const swarm = await startDhtSwarm(bed, { nodes: 8 }).catch(async (error) => {
      await bed.close();
      throw error;
    });
    const token = generateToken();
    try {
      const relay = await startBedRelay(bed, ["--no-stun"]);
      await using _relay = relay;
      const echo = await startBedEcho(bed.right);
      await using _echo = echo.proc;
      const [serverBootstrap, clientBootstrap] = [swarm.bootstrap[0], swarm.bootstrap[5]];

      await t.step("our server's record: in the DHT, read by the independent tools", async () => {
        // It publishes to the bed's pkarr relay too; the client asks only the DHT.
        const server = await startBedServer(bed.right, token, [
          "--dht-bootstrap",
          serverBootstrap,
        ]);
        await using _server = server.proc;
        await server.proc.waitForLine("Discovery: published to the DHT", { timeoutMs: 20_000 });
        const z32 = endpointIdToZ32(EndpointId.parse(server.id));
        const found = await independentGet(swarm, bed.left, z32);
        assert.ok(found, "bittorrent-dht finds our record");
        assert.deepEqual(found.relayUrls, [BED_RELAY_URL]);

        const started = performance.now();
        const client = await spawnBedClient(bed.left, [
          "--server-node-id",
          server.id,
          "--relay-only",
          "--no-dns",
          "--dht-bootstrap",
          clientBootstrap,
          "--source",
          `tcp://127.0.0.1:${echo.port}`,
          "--auth-token",
          token,
        ]);
        await using _client = client.proc;
        const readyMs = performance.now() - started;
        assert.ok(
          client.proc.lines("stdout").some((l) => l.includes(`through relay ${BED_RELAY_URL}`)),
          client.proc.lines("stdout").join("\n"),
        );
        const ms = await transferInBed(bed.left, client.localPort, SIZE);
        console.log(
          `found through the DHT and ready in ${
            readyMs.toFixed(0)
          } ms; ${SIZE} B echoed in ${ms} ms`,
        );
      });

      await t.step(
        "a record pkarr signed and bittorrent-dht put: resolved by our client",
        async () => {
          const seed = crypto.getRandomValues(new Uint8Array(32));
          const key = new SecretKey(seed);
          // The server publishes to the bed's pkarr relay only: the one record in
          // the DHT is the independent one.
          const server = await startBedServer(bed.right, token, [
            "--secret",
            btoa(String.fromCharCode(...seed)),
          ]);
          await using _server = server.proc;
          assert.equal(server.id, key.endpointId.toString());
          const put = await independentPut(swarm, bed.left, {
            seed,
            txt: [`relay=${BED_RELAY_URL}`],
          });
          assert.ok(put.acks > 0, "stored by the swarm");
          const client = await spawnBedClient(bed.left, [
            "--server-node-id",
            server.id,
            "--relay-only",
            "--no-dns",
            "--dht-bootstrap",
            clientBootstrap,
            "--source",
            `tcp://127.0.0.1:${echo.port}`,
            "--auth-token",
            token,
          ]);
          await using _client = client.proc;
          await transferInBed(bed.left, client.localPort, SIZE);
        },
      );
    } finally {
      await swarm.stop();
      await bed.close();
    }
  },
});
