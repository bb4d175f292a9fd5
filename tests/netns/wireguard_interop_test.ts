/**
 * Interoperability of core/vpn's WireGuard engine with wireguard-go: two
 * namespaces joined by a veth pair; wireguard-go (with wg0 at 10.9.0.1) in
 * one, our engine over a plain UDP socket (answering as 10.9.0.2) in the
 * other. Our side pings first (we initiate the handshake, wireguard-go's
 * kernel answers through it), then `ping` runs on the wireguard-go side and
 * our engine answers each echo request. Needs root, iproute2, wireguard-go and
 * wireguard-tools (`apt-get install wireguard-go wireguard-tools`).
 * @module
 */
import assert from "node:assert/strict";
import { findTool, mustRun, run } from "./command.ts";
import { addNamespace, newBedPrefix, removeNamespaces } from "./namespaces.ts";
import { canBuildBeds } from "./preflight.ts";
import { generatePrivateKey, publicKeyOf } from "../../core/vpn/mod.ts";

const support = await canBuildBeds({ stun: false });
const missing = ["wireguard-go", "wg"].filter((name) => !findTool(name));
const reason = !support.ok
  ? support.reason
  : missing.length > 0
  ? `${missing.join(", ")} not found (apt-get install wireguard-go wireguard-tools)`
  : undefined;
if (reason) console.log(`skipping WireGuard interop: ${reason}`);

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

Deno.test({
  name: "our WireGuard engine initiates to wireguard-go, and pings cross both ways",
  ignore: reason !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => interop(true),
});

Deno.test({
  name: "wireguard-go initiates to our WireGuard engine, which answers its pings",
  ignore: reason !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => interop(false),
});

async function interop(weInitiate: boolean): Promise<void> {
  {
    const prefix = newBedPrefix();
    const nsWg = `${prefix}-wg`;
    const nsJs = `${prefix}-js`;
    const dir = await Deno.makeTempDir({ prefix: `${prefix}-` });
    const children: Deno.ChildProcess[] = [];
    try {
      await addNamespace(nsWg);
      await addNamespace(nsJs);
      await mustRun([
        "ip",
        "link",
        "add",
        "veth0",
        "netns",
        nsWg,
        "type",
        "veth",
        "peer",
        "name",
        "veth1",
        "netns",
        nsJs,
      ]);
      await mustRun(["ip", "-n", nsWg, "addr", "add", "192.0.2.1/24", "dev", "veth0"]);
      await mustRun(["ip", "-n", nsJs, "addr", "add", "192.0.2.2/24", "dev", "veth1"]);
      await mustRun(["ip", "-n", nsWg, "link", "set", "veth0", "up"]);
      await mustRun(["ip", "-n", nsJs, "link", "set", "veth1", "up"]);

      const wgKey = generatePrivateKey();
      const ourKey = generatePrivateKey();
      await Deno.writeTextFile(`${dir}/wg.key`, b64(wgKey));
      const wireguardGo = new Deno.Command("ip", {
        args: ["netns", "exec", nsWg, "wireguard-go", "-f", "wg0"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      children.push(wireguardGo);
      for (let i = 0; (await run(["ip", "-n", nsWg, "link", "show", "wg0"])).code !== 0; i++) {
        assert.ok(i < 50, "wireguard-go did not create wg0 within 5 s");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await mustRun([
        "ip",
        "netns",
        "exec",
        nsWg,
        "wg",
        "set",
        "wg0",
        "private-key",
        `${dir}/wg.key`,
        "listen-port",
        "51820",
        "peer",
        b64(publicKeyOf(ourKey)),
        "allowed-ips",
        "10.9.0.2/32",
        "endpoint",
        "192.0.2.2:51821",
      ]);
      await mustRun(["ip", "-n", nsWg, "addr", "add", "10.9.0.1/24", "dev", "wg0"]);
      await mustRun(["ip", "-n", nsWg, "link", "set", "wg0", "up"]);

      const script = new URL("./_wireguard_interop_peer.ts", import.meta.url).pathname;
      const ours = new Deno.Command("ip", {
        args: [
          "netns",
          "exec",
          nsJs,
          Deno.execPath(),
          "run",
          "-A",
          "--unstable-net",
          script,
          b64(ourKey),
          b64(publicKeyOf(wgKey)),
          "192.0.2.1",
          "51820",
          "51821",
          "10.9.0.2",
          weInitiate ? "10.9.0.1" : "-",
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      children.push(ours);
      const events: Record<string, unknown>[] = [];
      const lines = ours.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = "";
      const waitFor = async (event: string, count: number, ms: number) => {
        const until = Date.now() + ms;
        while (events.filter((e) => e.event === event).length < count) {
          const remaining = until - Date.now();
          assert.ok(
            remaining > 0,
            `no ${count} "${event}" events within ${ms} ms: ${JSON.stringify(events)}`,
          );
          let timer: ReturnType<typeof setTimeout> | undefined;
          const chunk = await Promise.race([
            lines.read(),
            new Promise<undefined>((resolve) =>
              timer = setTimeout(() => resolve(undefined), remaining)
            ),
          ]);
          clearTimeout(timer);
          if (chunk === undefined) continue;
          assert.ok(!chunk.done, `our peer exited: ${JSON.stringify(events)}`);
          buffered += chunk.value;
          const parts = buffered.split("\n");
          buffered = parts.pop()!;
          for (const part of parts) if (part.trim()) events.push(JSON.parse(part));
        }
      };

      await waitFor("ready", 1, 20_000);
      if (weInitiate) {
        // Our echo request crosses, wireguard-go's kernel answers through the tunnel.
        await waitFor("echo-reply", 1, 20_000);
        assert.ok((events.find((e) => e.event === "echo-reply")!.handshakes as number) >= 1);
      }

      // wireguard-go's side pings us; our engine decrypts each request and answers it.
      const ping = await run([
        "ip",
        "netns",
        "exec",
        nsWg,
        "ping",
        "-c",
        "3",
        "-i",
        "0.3",
        "-W",
        "3",
        "10.9.0.2",
      ], {
        timeoutMs: 15_000,
      });
      // On failure, the peer's stats tell which side dropped what.
      if (ping.code !== 0) await waitFor("stats", 2, 3_000).catch(() => {});
      assert.equal(
        ping.code,
        0,
        `ping from wireguard-go's side failed:\n${ping.stdout}${ping.stderr}\n${
          JSON.stringify(events)
        }`,
      );
      await waitFor("echo-request", 3, 5_000);

      const show = await mustRun([
        "ip",
        "netns",
        "exec",
        nsWg,
        "wg",
        "show",
        "wg0",
        "latest-handshakes",
      ]);
      const latest = Number(show.trim().split(/\s+/)[1]);
      assert.ok(latest > 0, `wg show reports no handshake: ${show}`);
      console.log(`wg show wg0 latest-handshakes: ${show.trim()}`);
      console.log(`ping from wireguard-go's side:\n${ping.stdout.trim()}`);
      lines.releaseLock();
    } finally {
      for (const child of children) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      for (const child of children) await child.status.catch(() => {});
      await removeNamespaces([nsWg, nsJs]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}
