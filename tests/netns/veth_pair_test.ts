// The two-namespace pair: hosts reach each other over the veth, ports handed out are
// free and distinct, close() leaves nothing behind.
import assert from "node:assert/strict";
import { canBuildBeds, createVethPair, sweepStaleBeds } from "./mod.ts";
import { listNamespaces } from "./namespaces.ts";

const support = await canBuildBeds({ stun: false });
if (support.ok) await sweepStaleBeds();
else console.log(`skipping veth pair tests: ${support.reason}`);

Deno.test({
  name: "createVethPair() joins two namespaces that reach each other by veth address only",
  ignore: !support.ok,
  fn: async () => {
    const before = new Set(await listNamespaces());
    const pair = await createVethPair();
    try {
      const mine = (await listNamespaces()).filter((n) => !before.has(n));
      assert.deepEqual(mine.toSorted(), [pair.left.ns, pair.right.ns].toSorted());
      for (const [from, to] of [[pair.left, pair.right], [pair.right, pair.left]]) {
        const addrs = await pair.exec(from, ["ip", "-o", "addr", "show", "dev", from.device]);
        assert.match(addrs.stdout, new RegExp(`inet ${from.ip.replaceAll(".", "\\.")}/24`));
        assert.doesNotMatch(addrs.stdout, /inet6/, "IPv6 is off");
        const ping = await pair.exec(to, ["ping", "-n", "-c", "1", "-W", "2", from.ip]);
        assert.equal(ping.code, 0, `${to.name} pings ${from.ip}: ${ping.stdout}${ping.stderr}`);
      }
      // A socket bound to the first port makes freeUdpPort() pass it over.
      const holder = pair.spawn(pair.left, ["socat", "-u", "UDP-RECV:51820", "STDOUT"], {
        stdout: "null",
        stderr: "null",
      });
      try {
        const deadline = performance.now() + 5_000;
        while ((await pair.exec(pair.left, ["ss", "-Hlun", "sport = :51820"])).stdout === "") {
          assert.ok(performance.now() < deadline, "socat bound 51820 within 5 s");
          await new Promise((r) => setTimeout(r, 20));
        }
        const ports = [await pair.freeUdpPort(pair.left), await pair.freeUdpPort(pair.right)];
        assert.ok(!ports.includes(51820), `${ports}`);
        assert.notEqual(ports[0], ports[1]);
      } finally {
        holder.kill("SIGKILL");
        await holder.status;
      }
    } finally {
      await pair.close();
      await pair.close();
    }
    const after = await listNamespaces();
    assert.ok(!after.includes(pair.left.ns) && !after.includes(pair.right.ns));
  },
});
