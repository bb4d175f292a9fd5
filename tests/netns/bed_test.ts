// Lifecycle and layout of the bed itself: same-LAN peers talk without NAT, close() leaves
// nothing behind, sweepStaleBeds() removes only dead runs' namespaces.
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { canBuildBeds, createBed, stunMappedAddress, sweepStaleBeds } from "./mod.ts";
import { addNamespace, listNamespaces } from "./namespaces.ts";

const support = await canBuildBeds();
if (support.ok) await sweepStaleBeds();
else console.log(`skipping NAT bed tests: ${support.reason}`);

// A one-shot UDP echo and its client, as `deno eval` programs.
const ECHO = `const c = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 5000 });
console.log("ready");
const [data, from] = await c.receive();
await c.send(new TextEncoder().encode(from.hostname), from);`;
const ASK = (ip: string) =>
  `const c = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
for (let i = 0; i < 20; i++) {
  await c.send(new Uint8Array([1]), { transport: "udp", hostname: "${ip}", port: 5000 });
  const got = await Promise.race([c.receive(), new Promise((r) => setTimeout(r, 200))]);
  if (got) { console.log(new TextDecoder().decode(got[0])); Deno.exit(0); }
}
Deno.exit(1);`;
const evalCmd = (code: string) => [Deno.execPath(), "eval", "--no-config", "--unstable-net", code];

Deno.test({
  name: "same-lan: peers reach each other by LAN address, unNATed; both map to one WAN",
  ignore: !support.ok,
  fn: async () => {
    const bed = await createBed({ left: "port-restricted", right: "same-lan" });
    try {
      equal(bed.left.routerNs, bed.right.routerNs);
      const echo = bed.spawn(bed.right, evalCmd(ECHO), { stderr: "inherit" });
      const lines = echo.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const deadline = setTimeout(() => lines.cancel(), 15_000);
      try {
        ok((await lines.read()).value?.includes("ready"), "echo server started");
        const asked = await bed.exec(bed.left, evalCmd(ASK(bed.right.ip)), { timeoutMs: 15_000 });
        equal(asked.stdout.trim(), bed.left.ip, "the echo saw the left host's own LAN address");
      } finally {
        clearTimeout(deadline);
        await lines.cancel();
        try {
          echo.kill("SIGKILL");
        } catch { /* the one-shot echo has already exited */ }
        await echo.status;
      }
      for (const host of [bed.left, bed.right]) {
        equal((await stunMappedAddress(bed, host)).split(":")[0], bed.left.wanIp);
      }
    } finally {
      await bed.close();
    }
  },
});

Deno.test({
  name: "close() removes every namespace and can be called twice",
  ignore: !support.ok,
  fn: async () => {
    const before = new Set(await listNamespaces());
    const bed = await createBed({ left: "full-cone", right: "symmetric" });
    let mine: string[] = [];
    try {
      mine = (await listNamespaces()).filter((n) => !before.has(n));
      deepStrictEqual(mine.length, 5, `pub + 2 routers + 2 hosts: ${mine}`);
      // A process still running inside must not keep a namespace alive.
      bed.spawn(bed.left, ["sleep", "60"], { stdout: "null", stderr: "null" });
    } finally {
      await bed.close();
      await bed.close();
    }
    const after = await listNamespaces();
    deepStrictEqual(mine.filter((n) => after.includes(n)), []);
  },
});

Deno.test({
  name: "sweepStaleBeds() removes namespaces of dead processes only",
  ignore: !support.ok,
  fn: async () => {
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    const stale = `tnb-${dead.pid}-abc123-pub`;
    await addNamespace(stale);
    // Like a coturn left behind by a killed run: it must not keep the namespace alive.
    const stray = new Deno.Command("ip", {
      args: ["netns", "exec", stale, "sleep", "60"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const bed = await createBed({ left: "port-restricted", right: "port-restricted", stun: false });
    try {
      await sweepStaleBeds(); // --parallel: another module's sweep may have been first
      equal((await stray.status).signal, "SIGKILL");
      const left = await listNamespaces();
      ok(!left.includes(stale), "the dead run's namespace is gone");
      ok(left.includes(bed.left.ns), "a live bed is kept");
    } finally {
      try {
        stray.kill("SIGKILL");
      } catch { /* killed by the sweep */ }
      await stray.status;
      await bed.close();
    }
  },
});
