// A burst of unpaced datagrams from many local peers must come back through the
// tunnel almost whole, each reply at the peer that sent it.
import assert from "node:assert/strict";
import { openTunnel } from "./_fixtures.ts";

const PEERS = 10;
const PER_PEER = 100;
const SIZE = 1_200;

/** Sends PER_PEER unpaced datagrams from each of PEERS sockets; counts intact replies. */
async function burst(port: number): Promise<{ sent: number; received: number; misrouted: number }> {
  const sockets = Array.from(
    { length: PEERS },
    () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  let received = 0;
  let misrouted = 0;
  const seen = sockets.map(() => new Set<number>());
  const receivers = sockets.map(async (socket, peer) => {
    const buffer = new Uint8Array(2_048);
    try {
      for (;;) {
        const [data] = await socket.receive(buffer);
        const view = new DataView(data.buffer, data.byteOffset);
        if (data.length !== SIZE || view.getUint16(0) !== peer) {
          misrouted++;
          continue;
        }
        const index = view.getUint16(2);
        if (!seen[peer].has(index)) {
          seen[peer].add(index);
          received++;
        }
      }
    } catch { /* closed */ }
  });
  // Every peer fires its whole burst without pacing or waiting for replies.
  await Promise.all(sockets.map(async (socket, peer) => {
    const payload = new Uint8Array(SIZE);
    const view = new DataView(payload.buffer);
    view.setUint16(0, peer);
    for (let i = 0; i < PER_PEER; i++) {
      view.setUint16(2, i);
      await socket.send(payload, to);
    }
  }));
  const deadline = Date.now() + 5_000;
  while (received < PEERS * PER_PEER && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  sockets.forEach((s) => s.close());
  await Promise.all(receivers);
  return { sent: PEERS * PER_PEER, received, misrouted };
}

/** Starts tests/e2e/_udp_echo_process.ts in its own process. */
async function startEchoProcess() {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "--allow-net=127.0.0.1",
      new URL("./_udp_echo_process.ts", import.meta.url).pathname,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.cancel().catch(() => {});
  const port = Number(value?.trim());
  if (!Number.isInteger(port)) throw new Error(`the UDP echo process printed ${value}`);
  return {
    port,
    async [Symbol.asyncDispose]() {
      await child.stdin.close().catch(() => {});
      await child.status;
    },
  };
}

/** Datagrams the kernel dropped at each local UDP port so far (from /proc/net/udp). */
async function kernelDrops(): Promise<Map<number, number>> {
  const drops = new Map<number, number>();
  // Deno reads /proc only with --allow-all; `cat` needs no more than --allow-run.
  const table = await run("cat", ["/proc/net/udp"]);
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13) continue;
    const port = parseInt(fields[1].split(":")[1], 16);
    drops.set(port, (drops.get(port) ?? 0) + Number(fields[12]));
  }
  return drops;
}

const RMEM_DEFAULT = "net.core.rmem_default";

async function run(command: string, args: string[]): Promise<string> {
  const { stdout, success } = await new Deno.Command(command, { args, stderr: "null" }).output();
  if (!success) throw new Error(`${command} ${args.join(" ")} failed`);
  return new TextDecoder().decode(stdout);
}
/** What docs/TROUBLESHOOTING.md recommends for bursty UDP: room for ~1,800 such datagrams per socket. */
const RECOMMENDED_RMEM = 4 << 20;

/**
 * Runs `body` with the kernel's default socket receive buffer raised to the
 * recommendation of docs/TROUBLESHOOTING.md when this process may (root), restoring it after.
 * Deno cannot size one socket's buffer, so the default is the only lever.
 */
async function withRecommendedReceiveBuffer<T>(body: (raised: boolean) => Promise<T>): Promise<T> {
  const read = async () => Number(await run("sysctl", ["-n", RMEM_DEFAULT]).catch(() => "0"));
  const previous = await read();
  if (previous < RECOMMENDED_RMEM) {
    await run("sysctl", ["-qw", `${RMEM_DEFAULT}=${RECOMMENDED_RMEM}`]).catch(() => {});
  }
  const raised = (await read()) >= RECOMMENDED_RMEM;
  try {
    return await body(raised);
  } finally {
    if (previous > 0 && previous < RECOMMENDED_RMEM) {
      await run("sysctl", ["-qw", `${RMEM_DEFAULT}=${previous}`]);
    }
  }
}

Deno.test("a burst of 1,000 unpaced 1,200-byte datagrams from 10 peers arrives >= 95% intact", async () => {
  await withRecommendedReceiveBuffer(async (raised) => {
    await using echo = await startEchoProcess();
    await using tunnel = await openTunnel(`udp://127.0.0.1:${echo.port}`);
    const before = await kernelDrops();
    const result = await burst(tunnel.client.localPort);
    const after = await kernelDrops();
    const dropped = (port?: number) =>
      port === undefined
        ? [...after].reduce((sum, [p, n]) => sum + n - (before.get(p) ?? 0), 0)
        : (after.get(port) ?? 0) - (before.get(port) ?? 0);
    const atEntry = dropped(tunnel.client.localPort);
    const atService = dropped(echo.port);
    const inKernel = dropped();
    const lost = result.sent - result.received;
    console.log(
      `${result.received}/${result.sent} back (receive buffer ${raised ? "raised" : "default"}); ` +
        `kernel drops: ${atEntry} at the tunnel's local socket, ${atService} at the service, ` +
        `${inKernel - atEntry - atService} at other sockets; ${lost - inKernel} lost elsewhere`,
    );
    assert.equal(result.misrouted, 0, "a reply reached the wrong peer");
    // Whatever the buffers, the tunnel itself (queues, sends, the QUIC path) loses < 5%.
    assert.ok(
      lost - inKernel <= 0.05 * result.sent,
      `${lost - inKernel} lost outside kernel buffers`,
    );
    if (raised) {
      assert.ok(
        result.received >= 0.95 * result.sent,
        `only ${result.received} of ${result.sent} arrived through the tunnel`,
      );
    }
  });
});
