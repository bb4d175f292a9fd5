/**
 * How many 1,420-byte packets per second the WireGuard engine (core/vpn)
 * seals and opens on one thread: the transport keypair alone (libsodium's
 * ChaCha20-Poly1305 plus header, padding and replay window), and a whole
 * WireGuardPeer pair (send on one, receive on the other). Each measurement
 * runs for a bounded time.
 *
 * ```sh
 * deno run bench/wireguard_engine.ts [milliseconds per measurement, default 2000]
 * ```
 * @module
 */
import { Keypair } from "../core/vpn/wireguard/keypair.ts";
import { decodeTransportHeader } from "../core/vpn/wireguard/messages.ts";
import { generatePrivateKey, publicKeyOf, WireGuardPeer } from "../core/vpn/wireguard/mod.ts";

/** Packets per second of each measurement. */
export interface WireGuardEngineRates {
  /** Keypair.seal() + Keypair.open() of one packet. */
  sealOpen: number;
  /** WireGuardPeer.send() of a batch on one peer + receive() of each message on the other. */
  peerToPeer: number;
}

/** Runs both measurements for `durationMs` each, with `size`-byte IPv4 packets. */
export function measureWireGuardEngine(durationMs: number, size = 1420): WireGuardEngineRates {
  const packet = new Uint8Array(size);
  packet[0] = 0x45;
  packet[2] = size >> 8;
  packet[3] = size & 0xff;

  const k1 = crypto.getRandomValues(new Uint8Array(32));
  const k2 = crypto.getRandomValues(new Uint8Array(32));
  const sender = new Keypair({
    sendKey: k1,
    receiveKey: k2,
    localIndex: 1,
    remoteIndex: 2,
    isInitiator: true,
  }, 0);
  const receiver = new Keypair(
    {
      sendKey: k2.slice(),
      receiveKey: k1.slice(),
      localIndex: 2,
      remoteIndex: 1,
      isInitiator: false,
    },
    0,
  );
  const sealOpen = rate(durationMs, () => {
    const message = sender.seal(packet, size)!;
    const opened = receiver.open(message, decodeTransportHeader(message).counter);
    if (typeof opened === "string") throw new Error(`Cannot open a sealed packet: ${opened}`);
    return 1;
  });

  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const a = new WireGuardPeer({ privateKey: aKey, peerPublicKey: publicKeyOf(bKey), mtu: size });
  const b = new WireGuardPeer({ privateKey: bKey, peerPublicKey: publicKeyOf(aKey), mtu: size });
  // Handshake first, so the measurement is the data path only.
  let inFlight = a.send([packet]);
  for (let turn = 0; inFlight.length > 0; turn++) {
    const to = turn % 2 === 0 ? b : a;
    inFlight = inFlight.flatMap((message) => to.receive(message).reply);
  }
  const batch = Array.from({ length: 64 }, () => packet);
  const peerToPeer = rate(durationMs, () => {
    let delivered = 0;
    for (const message of a.send(batch)) delivered += b.receive(message).packets.length;
    return delivered;
  });
  return { sealOpen, peerToPeer };
}

function rate(durationMs: number, step: () => number): number {
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < durationMs) count += step();
  return count / ((performance.now() - start) / 1000);
}

if (import.meta.main) {
  const duration = Number(Deno.args[0] ?? 2000);
  const rates = measureWireGuardEngine(duration);
  const mb = (packets: number) => (packets * 1420 / 1e6).toFixed(0);
  console.log(
    `seal + open, 1420-byte packets: ${Math.round(rates.sealOpen)} packets/s (${
      mb(rates.sealOpen)
    } MB/s)`,
  );
  console.log(
    `peer send -> peer receive, 1420-byte packets: ${Math.round(rates.peerToPeer)} packets/s (${
      mb(rates.peerToPeer)
    } MB/s)`,
  );
}
