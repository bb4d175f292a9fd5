import assert from "node:assert/strict";
import { ipv4Packet, seqOf } from "./_wireguard_fixtures.ts";
import { memoryPacketPathPair } from "./memory_packet_path.ts";
import { MemoryTun } from "../device/mod.ts";
import { generatePrivateKey, publicKeyOf } from "./noise_primitives.ts";
import type { PacketPath } from "./packet_path.ts";
import { UdpPacketPath } from "./udp_packet_path.ts";
import { WireGuardLink } from "./wireguard_link.ts";
import { WireGuardPeer } from "./wireguard_peer.ts";

const COUNT = 10_000;
const SIZE = 1420;

/** Two links over the given paths, each delivering into its own MemoryTun. */
function linkPair(pathA: PacketPath, pathB: PacketPath) {
  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const tunA = new MemoryTun("a0");
  const tunB = new MemoryTun("b0");
  const a = new WireGuardLink(
    new WireGuardPeer({ privateKey: aKey, peerPublicKey: publicKeyOf(bKey), mtu: SIZE }),
    pathA,
    { onPackets: (packets) => tunA.write(packets) },
  );
  const b = new WireGuardLink(
    new WireGuardPeer({ privateKey: bKey, peerPublicKey: publicKeyOf(aKey), mtu: SIZE }),
    pathB,
    { onPackets: (packets) => tunB.write(packets) },
  );
  return { a, b, tunA, tunB };
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends COUNT packets each way, `batch` at a time, waiting for each batch to
 * arrive before the next (a socket buffer holds ~200 KB), and checks all
 * arrived in order of sequence numbers.
 */
async function moveBothWays(
  { a, b, tunA, tunB }: ReturnType<typeof linkPair>,
  batch: number,
): Promise<number> {
  // The first packet brings the session up; the bulk follows.
  a.send([ipv4Packet(SIZE, 0)]);
  await within(5_000, "handshake", tunB.waitForWritten(1));
  const start = performance.now();
  for (let sent = 1; sent <= COUNT; sent += batch) {
    const seqs = Array.from({ length: Math.min(batch, COUNT + 1 - sent) }, (_, i) => sent + i);
    a.send(seqs.map((seq) => ipv4Packet(SIZE, seq)));
    b.send(seqs.map((seq) => ipv4Packet(SIZE, seq)));
    const last = seqs[seqs.length - 1];
    await within(
      5_000,
      `batch up to ${last}`,
      Promise.all([tunB.waitForWritten(last + 1), tunA.waitForWritten(last)]),
    );
  }
  const seconds = (performance.now() - start) / 1000;
  assert.deepEqual(tunB.written.map(seqOf), Array.from({ length: COUNT + 1 }, (_, i) => i));
  assert.deepEqual(tunA.written.map(seqOf), Array.from({ length: COUNT }, (_, i) => i + 1));
  assert.deepEqual(tunB.written[COUNT], ipv4Packet(SIZE, COUNT));
  return (2 * COUNT) / seconds;
}

Deno.test("WireGuardLink moves 10,000 packets each way over an in-memory path pair", async () => {
  const [pathA, pathB] = memoryPacketPathPair();
  const pair = linkPair(pathA, pathB);
  try {
    const rate = await moveBothWays(pair, 500);
    console.log(
      `memory path: ${Math.round(rate)} packets/s of ${SIZE} bytes (both directions, one thread)`,
    );
    assert.equal(pair.a.peer.stats.handshakes, 1);
  } finally {
    pair.a.close();
    pair.b.close();
    await Promise.all([pair.a.done, pair.b.done]);
  }
});

Deno.test("WireGuardLink moves 10,000 packets each way over UDP on loopback", async () => {
  const pathA = new UdpPacketPath({
    hostname: "127.0.0.1",
    remote: { hostname: "127.0.0.1", port: 9 },
  });
  const portA = pathA.localAddr.port;
  pathA.close();
  // Bind B first to learn its port, then A on the port just freed.
  const pathB = new UdpPacketPath({
    hostname: "127.0.0.1",
    remote: { hostname: "127.0.0.1", port: portA },
  });
  const realA = new UdpPacketPath({
    hostname: "127.0.0.1",
    port: portA,
    remote: { hostname: "127.0.0.1", port: pathB.localAddr.port },
  });
  const pair = linkPair(realA, pathB);
  try {
    const rate = await moveBothWays(pair, 64);
    console.log(
      `UDP loopback: ${Math.round(rate)} packets/s of ${SIZE} bytes (both directions, one thread)`,
    );
  } finally {
    pair.a.close();
    pair.b.close();
    await Promise.all([pair.a.done, pair.b.done]);
  }
});

Deno.test("WireGuardLink retransmits a lost initiation on its timer", async () => {
  let dropped = 0;
  // Drop the first initiation only.
  const [pathA, pathB] = memoryPacketPathPair({
    drop: (message) => message[0] === 1 && dropped++ === 0,
  });
  const pair = linkPair(pathA, pathB);
  try {
    pair.a.send([ipv4Packet(100, 1)]);
    await within(7_000, "retransmitted handshake", pair.tunB.waitForWritten(1));
    assert.equal(pair.a.peer.stats.initiationsSent, 2);
  } finally {
    pair.a.close();
    pair.b.close();
    await Promise.all([pair.a.done, pair.b.done]);
  }
});

Deno.test("UdpPacketPath ignores datagrams from other addresses", async () => {
  const path = new UdpPacketPath({
    hostname: "127.0.0.1",
    remote: { hostname: "127.0.0.1", port: 9 },
  });
  const stranger = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await stranger.send(new Uint8Array([1, 2, 3]), path.localAddr);
    const received = path.receive();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(path.strangers, 1);
    path.close();
    assert.equal(await received, null);
  } finally {
    stranger.close();
    path.close();
  }
});
