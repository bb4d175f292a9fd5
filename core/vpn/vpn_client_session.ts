/**
 * A VPN client's side of a session: after the server accepted its `ip://`
 * request, send a fresh WireGuard key, take the server's answer (its key, a
 * preshared key, our address), and start WireGuard over the session.
 * @module
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { deadline, type PeerConnection } from "../transport/mod.ts";
import type { FramedStream, SessionStats, VpnConfig } from "../tunnel/mod.ts";
import { batchBytes } from "./packet_batches.ts";
import { SessionPacketPath } from "./session_packet_path.ts";
import type { StartWireGuard, WireGuardTunnel } from "./wireguard_tunnel.ts";

/** How long the client waits for the server's VPN configuration. */
const CONFIG_TIMEOUT_MS = 10_000;

/** A VPN session's WireGuard, running. */
export interface VpnClientLink {
  /** What the server assigned. */
  readonly config: VpnConfig;
  /** Encrypts packets to the server. */
  readonly tunnel: WireGuardTunnel;
  /** What the packet path sent how. */
  readonly path: SessionPacketPath;
  /** Stops WireGuard and the packet path. */
  close(): void;
}

/** What {@linkcode startVpnClientLink} takes. */
export interface VpnClientLinkOptions {
  /** Starts the WireGuard engine. */
  startWireGuard: StartWireGuard;
  /** Seconds between keepalives when idle. */
  keepaliveSeconds?: number;
  /** Receives the server's decrypted packets. */
  onPackets(packets: Uint8Array[]): void;
}

/**
 * Exchanges keys on `control` and starts WireGuard over `conn`; the IP bytes
 * each way are counted in the session's `stats`, when it has them, for the
 * status view.
 * @throws {Error} when the server does not answer with a configuration in time
 */
export async function startVpnClientLink(
  session: { conn: PeerConnection; control: FramedStream; stats?: SessionStats },
  options: VpnClientLinkOptions,
): Promise<VpnClientLink> {
  const privateKey = x25519.utils.randomSecretKey();
  await session.control.write({ type: "vpn-hello", publicKey: x25519.getPublicKey(privateKey) });
  const answer = await deadline(
    session.control.read(),
    CONFIG_TIMEOUT_MS,
    "the server sent no VPN configuration in time",
  );
  if (answer?.type !== "vpn-config") {
    privateKey.fill(0);
    throw new Error("the server did not answer with a VPN configuration (is it a VPN server?)");
  }
  const path = new SessionPacketPath(session.conn);
  const stats = session.stats;
  const tunnel = options.startWireGuard({
    privateKey,
    peerPublicKey: answer.config.serverPublicKey,
    presharedKey: answer.config.presharedKey,
    path,
    persistentKeepaliveSeconds: options.keepaliveSeconds,
    onPackets: (packets) => {
      if (stats) stats.received += batchBytes(packets);
      options.onPackets(packets);
    },
  });
  privateKey.fill(0);
  return {
    config: answer.config,
    tunnel: stats === undefined ? tunnel : {
      send(packets) {
        stats.sent += batchBytes(packets);
        tunnel.send(packets);
      },
      close: () => tunnel.close(),
    },
    path,
    close() {
      tunnel.close();
      path.close();
    },
  };
}
