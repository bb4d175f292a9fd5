/**
 * The engine behind {@linkcode StartWireGuard}: a {@linkcode WireGuardPeer}
 * driven by a {@linkcode WireGuardLink} over the session's path.
 * @module
 */
import { WireGuardLink, WireGuardPeer } from "./wireguard/mod.ts";
import type { WireGuardTunnel, WireGuardTunnelOptions } from "./wireguard_tunnel.ts";

/** Starts WireGuard with one peer (the engine of this folder); a {@linkcode StartWireGuard}. */
export function startWireGuard(options: WireGuardTunnelOptions): WireGuardTunnel {
  const link = new WireGuardLink(
    new WireGuardPeer({
      // The caller wipes its copy once started.
      privateKey: options.privateKey.slice(),
      peerPublicKey: options.peerPublicKey,
      presharedKey: options.presharedKey,
      persistentKeepaliveSeconds: options.persistentKeepaliveSeconds,
    }),
    options.path,
    { onPackets: options.onPackets },
  );
  return { send: (packets) => link.send(packets), close: () => link.close() };
}
