/**
 * Helpers for the engine's tests: a fake clock, IPv4 packets, peers in pairs,
 * and delivering messages between them. Only tests import this.
 * @module
 */
import { generatePrivateKey, publicKeyOf } from "./noise_primitives.ts";
import { WireGuardPeer, type WireGuardPeerOptions } from "./wireguard_peer.ts";

/** A clock tests move by hand. */
export class FakeClock {
  /** Current time in ms. */
  time = 1_000_000;
  /** The clock function to inject. */
  readonly now = (): number => this.time;
  /** Moves the clock forward. */
  advance(ms: number): void {
    this.time += ms;
  }
}

/** A minimal IPv4/UDP-shaped packet of `size` bytes (>= 28) whose payload starts with `seq`. */
export function ipv4Packet(size: number, seq = 0): Uint8Array {
  const packet = new Uint8Array(size);
  packet[0] = 0x45;
  packet[2] = size >> 8;
  packet[3] = size & 0xff;
  packet[8] = 64;
  packet[9] = 17;
  packet.set([10, 0, 0, 1], 12);
  packet.set([10, 0, 0, 2], 16);
  new DataView(packet.buffer).setUint32(28 - 4, seq);
  for (let i = 28; i < size; i++) packet[i] = (seq + i) & 0xff;
  return packet;
}

/** The sequence number {@link ipv4Packet} wrote. */
export function seqOf(packet: Uint8Array): number {
  return new DataView(packet.buffer, packet.byteOffset).getUint32(24);
}

/** Two peers configured for each other, on one fake clock. */
export function peerPair(
  clock = new FakeClock(),
  options: Partial<WireGuardPeerOptions> = {},
): { a: WireGuardPeer; b: WireGuardPeer; clock: FakeClock; aKey: Uint8Array; bKey: Uint8Array } {
  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const a = new WireGuardPeer({
    privateKey: aKey,
    peerPublicKey: publicKeyOf(bKey),
    now: clock.now,
    ...options,
  });
  const b = new WireGuardPeer({
    privateKey: bKey,
    peerPublicKey: publicKeyOf(aKey),
    now: clock.now,
    ...options,
  });
  return { a, b, clock, aKey, bKey };
}

/**
 * Delivers `messages` from one peer to the other and the replies back, until
 * no more come (bounded). Returns the IP packets each side received.
 */
export function exchange(
  from: WireGuardPeer,
  to: WireGuardPeer,
  messages: Uint8Array[],
): { atFrom: Uint8Array[]; atTo: Uint8Array[] } {
  const received = new Map([[from, [] as Uint8Array[]], [to, [] as Uint8Array[]]]);
  let inFlight = messages;
  let sender = from;
  for (let round = 0; inFlight.length > 0; round++) {
    if (round > 20) throw new Error("exchange() did not settle in 20 rounds");
    const receiver = sender === from ? to : from;
    const replies: Uint8Array[] = [];
    for (const message of inFlight) {
      const result = receiver.receive(message);
      replies.push(...result.reply);
      received.get(receiver)!.push(...result.packets);
    }
    inFlight = replies;
    sender = receiver;
  }
  return { atFrom: received.get(from)!, atTo: received.get(to)! };
}

/** Message types of a list of messages, for assertions. */
export function types(messages: Uint8Array[]): number[] {
  return messages.map((message) => message[0]);
}
