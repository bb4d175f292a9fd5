/**
 * VPN mode's TUN devices (`core/vpn`) in fresh network namespaces: a ping answered through
 * the device, the device gone after close and after SIGKILL, the one-line permission error,
 * and read/write rates of 1,420-byte packets. Run: `deno test -A --unstable-net tests/netns/tun_device_test.ts`.
 * @module
 */
import assert from "node:assert/strict";
import { findTool, mustRun, run } from "./command.ts";
import { addNamespace, newBedPrefix, removeNamespaces, sweepStaleBeds } from "./namespaces.ts";
import { TUN_PERMISSION_MESSAGE } from "../../core/vpn/device/mod.ts";

const PEER = new URL("./_tun_peer.ts", import.meta.url).pathname;
// The narrow set VPN mode documents for its device: FFI for libc, and ip.
const FLAGS = ["--allow-ffi", "--allow-run=ip"];
const ip = findTool("ip")!;

const support = Deno.build.os === "linux" && Deno.uid() === 0 && ip !== undefined &&
  (() => {
    try {
      return Deno.statSync("/dev/net/tun").isCharDevice;
    } catch {
      return false;
    }
  })();
if (!support) console.log("skipping TUN tests: needs Linux, root, iproute2 and /dev/net/tun");

async function withNamespace(fn: (ns: string) => Promise<void>): Promise<void> {
  await sweepStaleBeds();
  const ns = `${newBedPrefix()}-tun`;
  await addNamespace(ns);
  try {
    await fn(ns);
  } finally {
    await removeNamespaces([ns]);
  }
}

function spawnPeer(ns: string, args: string[], prefix: string[] = []): Deno.ChildProcess {
  return new Deno.Command(ip, {
    args: ["netns", "exec", ns, ...prefix, Deno.execPath(), "run", ...FLAGS, PEER, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads the child's stdout line by line: `next()` one line, `rest()` all that follows. */
function lines(child: Deno.ChildProcess) {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  return {
    async next(): Promise<string> {
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      const [line, ...more] = text.split("\n");
      text = more.join("\n");
      return line;
    },
    async rest(): Promise<string> {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
      return text;
    },
  };
}

async function tunLinks(ns: string): Promise<string> {
  return (await mustRun([ip, "-n", ns, "-o", "link", "show", "type", "tun"])).trim();
}

Deno.test({
  name: "openTunDevice() in a namespace: ping -c 3 is answered by the script through the device",
  ignore: !support,
  fn: () =>
    withNamespace(async (ns) => {
      const peer = spawnPeer(ns, ["echo", "10.77.0.1/24", "20"]);
      const name = await lines(peer).next();
      assert.match(name, /^tun\d+$/);
      const shown = await mustRun([ip, "-n", ns, "addr", "show", name]);
      assert.match(shown, /mtu 1420/);
      assert.match(shown, /inet 10\.77\.0\.1\/24/);
      // Any address of the device's network is routed into it; the script answers for all.
      const ping = await run([
        ip,
        "netns",
        "exec",
        ns,
        "ping",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "10.77.0.9",
      ]);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, /3 received/);
      peer.kill("SIGTERM");
      const status = await peer.status;
      await peer.stderr.cancel();
      assert.equal(status.code, 0);
      assert.equal(await tunLinks(ns), "", "the device outlived close()");
    }),
});

Deno.test({
  name: "close() removes the device and ends a pending read() with null",
  ignore: !support,
  fn: () =>
    withNamespace(async (ns) => {
      const out = await run([
        ip,
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        ...FLAGS,
        PEER,
        "close",
      ]);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout.trim(), /^tun\d+ null$/);
      assert.equal(await tunLinks(ns), "");
    }),
});

Deno.test({
  name: "the device disappears when its process is killed with SIGKILL",
  ignore: !support,
  fn: () =>
    withNamespace(async (ns) => {
      const peer = spawnPeer(ns, ["hold", "tun-vpn%d"]);
      const name = await lines(peer).next();
      assert.equal(name, "tun-vpn0");
      assert.match(await tunLinks(ns), /tun-vpn0/);
      peer.kill("SIGKILL");
      await peer.status;
      await peer.stderr.cancel();
      assert.equal(await tunLinks(ns), "");
    }),
});

Deno.test({
  name: "without CAP_NET_ADMIN creating a device fails with the one-line permission message",
  ignore: !support || !findTool("setpriv"),
  fn: () =>
    withNamespace(async (ns) => {
      const dropped = ["setpriv", "--inh-caps=-all", "--bounding-set=-net_admin"];
      const out = await run([
        ip,
        "netns",
        "exec",
        ns,
        ...dropped,
        Deno.execPath(),
        "run",
        ...FLAGS,
        PEER,
        "open",
        "tun7",
      ]);
      assert.equal(out.stdout, `${TUN_PERMISSION_MESSAGE}\n`);
      // The same command with the capability succeeds: the message is about the capability.
      const allowed = await run([
        ip,
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        ...FLAGS,
        PEER,
        "open",
        "tun7",
      ]);
      assert.equal(allowed.stdout, "ok\n");
    }),
});

Deno.test({
  name: "read and write rates of 1,420-byte packets (printed)",
  ignore: !support,
  fn: () =>
    withNamespace(async (ns) => {
      // Packets written to one device are forwarded by the namespace's kernel into the other.
      await mustRun([ip, "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
      const sink = spawnPeer(ns, ["sink", "10.80.0.1/24", "6"]);
      const sinkLines = lines(sink);
      await sinkLines.next();
      const count = 1_000_000;
      const source = await run([
        ip,
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        ...FLAGS,
        PEER,
        "source",
        "10.81.0.1/24",
        "10.80.0.9",
        String(count),
      ]);
      assert.equal(source.code, 0, source.stderr);
      const sinkOut = await sinkLines.rest();
      await sink.status;
      await sink.stderr.cancel();
      const [, written, writeSeconds] = source.stdout.split("\n")[1].split(" ");
      const [, read, readSeconds] = sinkOut.trim().split(" ");
      const rate = (n: string, s: string) => Math.round(Number(n) / Number(s));
      console.log(
        `write: ${written} packets in ${writeSeconds} s = ${rate(written, writeSeconds)}/s`,
      );
      console.log(
        `read: ${read} packets in ${readSeconds} s = ${
          rate(read, readSeconds)
        }/s (the rest dropped by the kernel's queue)`,
      );
      assert.equal(Number(written), count);
      assert.ok(Number(read) > 0 && Number(read) <= count);
    }),
});
