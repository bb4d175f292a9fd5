/**
 * The `ip` service: a VPN server's side of a session. The request names the
 * client instance (`ip://<32 hex digits>`, random per client run) so an
 * instance that reconnects gets its address back; the check leases an address
 * (or refuses when the pool is full); serving exchanges fresh WireGuard keys on
 * the control stream, then carries the client's IP packets through WireGuard
 * over the session until it ends.
 * @module
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { deadline } from "../transport/mod.ts";
import type { ServerService, ServiceSession, ServiceTotals } from "../tunnel/mod.ts";
import type { AddressLease, AddressPool } from "./address_pool.ts";
import type { IpRouter } from "./ip_router.ts";
import { batchBytes } from "./packet_batches.ts";
import { SessionPacketPath } from "./session_packet_path.ts";
import type { StartWireGuard } from "./wireguard_tunnel.ts";

/** How long the server waits for the client's key once the request is accepted. */
const HELLO_TIMEOUT_MS = 5_000;

const REQUEST = /^ip:\/\/([0-9a-f]{32})$/;

/** The request a VPN client instance sends. */
export function vpnRequest(instance: string): string {
  return `ip://${instance}`;
}

/** What the `ip` service needs. */
export interface IpServiceOptions {
  /** Addresses of the VPN network. */
  pool: AddressPool;
  /** Routes between the server's TUN device and the sessions. */
  router: IpRouter;
  /** The server device's MTU, told to clients. */
  mtu: number;
  /** Starts the WireGuard engine. */
  startWireGuard: StartWireGuard;
  /**
   * Advice a client refused for a full pool is given after the facts, in the
   * words of whoever runs the server (which setting makes the network larger).
   */
  exhaustedAdvice?: string;
}

/** The `ip` service handler. */
export function ipService(options: IpServiceOptions): ServerService<AddressLease> {
  const { pool } = options;
  // Sessions by client instance: a newer session of an instance replaces its older one.
  const current = new Map<string, ServiceSession>();
  return {
    check(request) {
      const match = REQUEST.exec(request.trim().toLowerCase());
      if (!match) {
        return Promise.resolve({
          accepted: false,
          reason: `malformed VPN request '${request.slice(0, 64)}'`,
        });
      }
      const lease = pool.lease(match[1]);
      if (!lease) {
        return Promise.resolve({
          accepted: false,
          reason: `VPN address pool ${pool.network.text} is exhausted (${pool.capacity} client ${
            pool.capacity === 1 ? "address" : "addresses"
          }, all in use)${options.exhaustedAdvice ? `; ${options.exhaustedAdvice}` : ""}`,
        });
      }
      return Promise.resolve({
        accepted: true,
        grant: lease,
        description: `VPN client ${lease.text}`,
        source: `vpn ${lease.text}`,
      });
    },
    release: (lease) => pool.release(lease),
    async serve(lease, session) {
      const older = current.get(lease.instance);
      current.set(lease.instance, session);
      older?.conn.close({ code: 0, reason: "replaced by a newer session of the same client" });
      try {
        return await serveVpnSession(lease, session, options);
      } catch (error) {
        session.log.info(`[${session.label}] VPN session ended: ${(error as Error).message}`);
        return { sent: 0, received: 0 };
      } finally {
        if (current.get(lease.instance) === session) current.delete(lease.instance);
        pool.release(lease);
      }
    },
  };
}

async function serveVpnSession(
  lease: AddressLease,
  session: ServiceSession,
  options: IpServiceOptions,
): Promise<ServiceTotals> {
  const { control, conn } = session;
  const hello = await deadline(control.read(), HELLO_TIMEOUT_MS, "no VPN key from the client");
  if (hello?.type !== "vpn-hello") throw new Error("expected the client's VPN key");
  const privateKey = x25519.utils.randomSecretKey();
  const presharedKey = crypto.getRandomValues(new Uint8Array(32));
  await control.write({
    type: "vpn-config",
    config: {
      serverPublicKey: x25519.getPublicKey(privateKey),
      presharedKey,
      clientAddress: lease.address,
      prefixLength: options.pool.network.prefix,
      serverAddress: options.pool.serverAddress,
      mtu: options.mtu,
    },
  });
  const totals = { sent: 0, received: 0 };
  const stats = session.stats;
  const path = new SessionPacketPath(conn);
  const tunnel = options.startWireGuard({
    privateKey,
    peerPublicKey: hello.publicKey,
    presharedKey,
    path,
    onPackets(packets) {
      const bytes = batchBytes(packets);
      totals.received += bytes;
      if (stats) stats.received += bytes;
      options.router.fromPeer(packets, lease.address);
    },
  });
  privateKey.fill(0);
  const removeRoute = options.router.addHost(lease.address, {
    send(packets) {
      const bytes = batchBytes(packets);
      totals.sent += bytes;
      if (stats) stats.sent += bytes;
      tunnel.send(packets);
    },
  });
  session.log.info(`[${session.label}] VPN client ${lease.text} connected`);
  try {
    await conn.closed;
  } finally {
    removeRoute();
    tunnel.close();
    path.close();
  }
  return totals;
}
