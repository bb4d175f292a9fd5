/**
 * The seam between VPN sessions and the WireGuard engine: what a session asks
 * for (keys, a path, where decrypted packets go) and what it gets back (a sink
 * for packets to encrypt). Sessions start the engine only through this.
 * @module
 */
import type { PacketSink } from "./ip_router.ts";
import type { PacketPath } from "./wireguard/mod.ts";

/** What starting WireGuard with one peer takes. */
export interface WireGuardTunnelOptions {
  /** Our X25519 private key (32 bytes), fresh for the session. */
  privateKey: Uint8Array;
  /** The peer's X25519 public key (32 bytes). */
  peerPublicKey: Uint8Array;
  /** The session's preshared key (32 bytes). */
  presharedKey: Uint8Array;
  /** Where WireGuard messages go and come from. */
  path: PacketPath;
  /** Seconds between keepalives when idle (persistent keepalive); none when undefined. */
  persistentKeepaliveSeconds?: number;
  /** Receives the peer's decrypted IP packets. */
  onPackets(packets: Uint8Array[]): void;
}

/** WireGuard running with one peer. */
export interface WireGuardTunnel extends PacketSink {
  /** Stops it (timers, path reading) and forgets its keys. */
  close(): void;
}

/** Starts WireGuard with one peer. */
export type StartWireGuard = (options: WireGuardTunnelOptions) => WireGuardTunnel;
