/**
 * `tunnel vpn server` and `tunnel vpn client` through a `tunnel relay --access-token`
 * between symmetric NATs (so the relay is the only path): the token from a file and
 * a flag, shown in no output; a wrong token ends the client with one line.
 */
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { canBuildBeds, createBed, sweepStaleBeds } from "./mod.ts";
import { BED_PKARR_URL, BED_RELAY_URL, startBedRelay } from "./tunnels_in_bed.ts";
import {
  exitWithin,
  spawnVpn,
  startVpnClient,
  startVpnServer,
  waitForPing,
} from "./vpn_processes.ts";

const support = await canBuildBeds({ stun: false });
if (!support.ok) console.log(`skipping VPN relay token tests: ${support.reason}`);
else await sweepStaleBeds();

Deno.test({
  name: "vpn: through a relay that wants a token, given by file and flag, printed nowhere",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const bed = await createBed({ left: "symmetric", right: "symmetric", stun: false });
    const scratch = await Deno.makeTempDir({ prefix: "tunnel-vpn-token-test-" });
    const relayToken = `relay-${crypto.randomUUID()}`;
    const authToken = generateToken();
    try {
      const tokenFile = `${scratch}/relay.token`;
      await Deno.writeTextFile(tokenFile, `${relayToken}\n`);
      await using _relay = await startBedRelay(bed, ["--no-stun", "--access-token", relayToken]);
      const server = await startVpnServer(bed.right, [
        ...["--bind", "0.0.0.0:0", "--auth-tokens", authToken, "--no-stun", "-v"],
        ...["--relay-url", BED_RELAY_URL, "--dns-server", BED_PKARR_URL],
        ...["--relay-token-file", tokenFile],
      ], { readPaths: [tokenFile] });
      await using _server = server.proc;
      const client = await startVpnClient(bed.left, server.id, [
        ...["--relay-url", BED_RELAY_URL, "--dns-server", BED_PKARR_URL],
        ...["--auth-token", authToken, "--relay-token", relayToken, "--no-stun", "-v"],
      ], { lockFile: `${scratch}/client.lock` });
      await using _client = client.proc;
      assert.ok(
        client.proc.lines("stdout").includes(
          `Connected to server ${server.id} through relay ${BED_RELAY_URL}`,
        ),
        client.proc.lines("stdout").join("\n"),
      );
      await waitForPing(bed.left, server.address);
      const shown = [server.proc, client.proc]
        .flatMap((p) => [...p.lines("stdout"), p.stderrText()]).join("\n");
      assert.ok(!shown.includes(relayToken), "the relay token was printed");

      const wrong = spawnVpn(bed.left, [
        ...["client", "-n", server.id, "--lock-file", `${scratch}/wrong.lock`],
        ...["--relay-url", BED_RELAY_URL, "--no-dns", "--no-stun", "--auth-token", authToken],
        ...["--relay-token", "not-the-token"],
      ]);
      const status = await exitWithin(wrong, 20_000);
      assert.equal(status.code, 1, wrong.stderrText());
      const lines = wrong.stderrText().trim().split("\n");
      assert.equal(lines.length, 1, wrong.stderrText());
      assert.match(lines[0], /^Error: The relay \S+ refused the relay token: /);
      assert.ok(!lines[0].includes("not-the-token"));
    } finally {
      await bed.close();
      await Deno.remove(scratch, { recursive: true });
    }
  },
});
