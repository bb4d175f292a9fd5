// A TCP connection across a WAN with round trips long enough for stripes: the client opens
// them (the server says so at -v), and the bytes arrive intact both ways through real
// tunnel processes over Deno's QUIC.
import assert from "node:assert/strict";
import { generateToken } from "../../../core/auth/mod.ts";
import { tunnelCommandArgs } from "../../harness/mod.ts";
import { spawnIn, startBedEcho, transferInBed } from "../tunnels_in_bed.ts";
import { canBuildBeds } from "../preflight.ts";
import { findTool } from "../command.ts";
import { createWanPair } from "./wan_pair.ts";

const support = await canBuildBeds({ stun: false });
const skip = !support.ok ? support.reason : findTool("ethtool") ? undefined : "ethtool missing";
if (skip) console.log(`stripes_test.ts skipped: ${skip}`);

Deno.test({
  name: "a bulk TCP connection across 20 ms of WAN takes four stripes and arrives intact",
  ignore: skip !== undefined,
  async fn() {
    const wan = await createWanPair({ ab: { delayUs: 10_000 }, ba: { delayUs: 10_000 } });
    const stops: (() => Promise<unknown>)[] = [];
    try {
      const token = generateToken();
      const echo = await startBedEcho(wan.right);
      stops.push(() => echo.proc.stop());
      const server = spawnIn(wan.right.ns, [
        Deno.execPath(),
        ...tunnelCommandArgs([
          "server",
          "-v",
          "--bind",
          `${wan.right.ip}:0`,
          "--allowed-tcp",
          "127.0.0.0/8",
          "--auth-tokens",
          token,
          "--no-relay",
          "--no-dns",
        ]),
      ]);
      stops.push(() => server.stop());
      await server.waitForLine("Waiting for clients to connect...", { timeoutMs: 30_000 });
      const lines = server.lines("stdout");
      const id = lines.find((l) => l.startsWith("EndpointId: "))!.slice("EndpointId: ".length);
      const addr = lines.map((l) => /^Listening on (\S+)$/.exec(l)?.[1])
        .find((a) => a?.startsWith(wan.right.ip))!;
      const client = spawnIn(wan.left.ns, [
        Deno.execPath(),
        ...tunnelCommandArgs([
          "client",
          "-v",
          "--server-node-id",
          id,
          "--server-addr",
          addr,
          "--source",
          `tcp://127.0.0.1:${echo.port}`,
          "--target",
          "127.0.0.1:0",
          "--auth-token",
          token,
          "--no-relay",
          "--no-dns",
        ]),
      ]);
      stops.push(() => client.stop());
      const ready = await client.waitForLine(/127\.0\.0\.1:\d+/, { timeoutMs: 30_000 });
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(ready)![1]);
      // 24 MB each way: past the first probe's round trip (1 s) at any speed this line allows.
      await transferInBed(wan.left, port, 24_000_000).catch((error) => {
        // Both tunnels' own account is what tells a reset from a broken peer apart.
        const tail = (name: string, proc: typeof server) =>
          `${name}:\n${proc.lines("stderr").slice(-30).join("\n")}`;
        throw new Error(`${error.message}\n${tail("server", server)}\n${tail("client", client)}`);
      });
      const joined = [...server.lines("stdout"), ...server.lines("stderr")]
        .filter((line) => /stripe \d joined/.test(line));
      assert.deepEqual(
        joined.map((line) => /stripe (\d) joined/.exec(line)![1]).sort(),
        ["1", "2", "3"],
        `server lines:\n${server.lines("stderr").slice(-20).join("\n")}`,
      );
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await wan.close();
    }
  },
});
