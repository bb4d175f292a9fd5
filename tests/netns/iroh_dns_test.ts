/**
 * Interop of the relay's DNS face: an endpoint of the official iroh JS bindings (npm
 * `@number0/iroh` 1.1.0, iroh 1.0.2 inside) with iroh's n0 preset, given only an
 * EndpointId, finds the way to it by asking its system resolver for
 * `_iroh.<z32>.dns.iroh.link` TXT, and the resolver is `tunnel relay --dns-bind`: the
 * namespace's /etc/netns/<ns>/resolv.conf names it, which `ip netns exec` mounts over
 * /etc/resolv.conf. The namespace has loopback only, so nothing else (n0's servers, the
 * host's resolver) can answer; before the record is published the same dial fails.
 */
import assert from "node:assert/strict";
import { ManagedProcess, tunnelCommandArgs } from "../harness/mod.ts";
import { run, tool } from "./command.ts";
import { canBuildBeds, sweepStaleBeds } from "./mod.ts";
import { addNamespace, newBedPrefix, removeNamespaces } from "./namespaces.ts";

const support = await canBuildBeds({ stun: false });
const skip = !support.ok
  ? support.reason
  : Deno.build.arch !== "x86_64"
  ? "the iroh bindings are pinned for linux-x86_64 only"
  : undefined;
if (skip) console.log(`skipping iroh DNS interop: ${skip}`);
else await sweepStaleBeds();

const PEER = new URL("./_iroh_peer.ts", import.meta.url).pathname;
const PUBLISH = new URL("./_pkarr_publish.ts", import.meta.url).pathname;
const TEST_CONFIG = new URL("../../deno.test.json", import.meta.url).pathname;
const RELAY_URL = "http://127.0.0.1:3340/";
const SIZE = 100_000;

function inNamespace(ns: string, cmd: string[]): string[] {
  return ["netns", "exec", ns, ...cmd];
}

function peerCommand(args: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--config",
    TEST_CONFIG,
    "--allow-ffi",
    "--allow-env=IROH_PEER_LOG",
    PEER,
    ...args,
  ];
}

Deno.test({
  name: "an iroh endpoint whose resolver is tunnel relay --dns-bind finds an endpoint by its id",
  ignore: skip !== undefined,
  fn: async () => {
    const ns = `${newBedPrefix()}-dns`;
    const etc = `/etc/netns/${ns}`;
    await addNamespace(ns);
    try {
      await Deno.mkdir(etc, { recursive: true });
      await Deno.writeTextFile(`${etc}/resolv.conf`, "nameserver 127.0.0.1\n");
      const ip = tool("ip", "iproute2");
      await using relay = ManagedProcess.spawn(ip, {
        args: inNamespace(ns, [
          Deno.execPath(),
          ...tunnelCommandArgs([
            "relay",
            "--bind",
            "127.0.0.1:3340",
            "--no-stun",
            "--dns-bind",
            "127.0.0.1:53",
            "--dns-origin",
            "dns.iroh.link",
          ]),
        ]),
      });
      await relay.waitForLine("Relay ready", { timeoutMs: 30_000 });

      const seed = Array.from(
        crypto.getRandomValues(new Uint8Array(32)),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("");
      await using acceptor = ManagedProcess.spawn(ip, {
        args: inNamespace(ns, peerCommand(["accept", RELAY_URL, seed])),
      });
      const endpointId = (await acceptor.waitForLine(/^endpoint [0-9a-f]{64}$/, {
        timeoutMs: 30_000,
      })).slice("endpoint ".length);
      const dial = () =>
        run([
          ip,
          ...inNamespace(ns, peerCommand(["connect-by-dns", RELAY_URL, endpointId, String(SIZE)])),
        ], {
          timeoutMs: 50_000,
        });

      // Nothing published yet: the EndpointId alone leads nowhere.
      const before = await dial();
      assert.notEqual(before.code, 0, `dialed without a record:\n${before.stdout}`);
      // iroh's DNS lookup was asked, and found nothing: NXDOMAIN from the relay.
      assert.match(before.stderr, /No addressing information available/, before.stderr);
      assert.match(before.stderr, /Service 'dns' failed/, before.stderr);

      const published = await run([
        ip,
        ...inNamespace(ns, [
          Deno.execPath(),
          "run",
          "--no-prompt",
          "--config",
          TEST_CONFIG,
          "--allow-net=127.0.0.1:3340",
          PUBLISH,
          `${RELAY_URL}pkarr`,
          RELAY_URL,
          seed,
        ]),
      ]);
      assert.equal(published.code, 0, published.stderr);

      const after = await dial();
      assert.equal(after.code, 0, `dialer failed:\n${after.stderr}`);
      const line = after.stdout.split("\n").findLast((l) => l.startsWith("{"));
      assert.ok(line, after.stdout);
      const report = JSON.parse(line) as {
        remote: string;
        sent: string;
        received: string;
        bytes: number;
      };
      assert.equal(report.remote, endpointId);
      assert.equal(report.bytes, SIZE);
      assert.equal(report.received, report.sent);
      console.log(`iroh dialed ${endpointId.slice(0, 8)}... found through the relay's DNS face`);
    } finally {
      await removeNamespaces([ns]);
      await Deno.remove(etc, { recursive: true }).catch(() => {});
    }
  },
});
