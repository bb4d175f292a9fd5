/**
 * Hole punching on a session that began on a relay: the client keeps trying
 * for a direct path, the server answers its offers. STUN servers default to
 * the relays' own (iroh's relays and `tunnel relay` answer STUN on 3478).
 * @module
 */
import type { EndpointId, SecretKey } from "../identity/mod.ts";
import { ALPN, formatHostPort, type SessionPaths, type TunnelLog } from "../tunnel/mod.ts";
import { answerUpgrades, keepUpgrading, type Upgrader } from "../upgrade/mod.ts";
import type { PortLease } from "../connect/mod.ts";
import { PortLeases } from "./port_leases.ts";

/** The STUN port relays answer on (RFC 5389's default). */
export const RELAY_STUN_PORT = 3478;

/** How an endpoint gathers ICE candidates when it punches a direct path. */
export interface EndpointIce {
  /** Named STUN servers; undefined: each relay's host on {@linkcode RELAY_STUN_PORT}. */
  stunServers?: string[];
  /**
   * Relays one operator runs together (iroh's public relays): when a relay in
   * use is one of them, STUN goes to every one's host, so each attempt hears
   * two or more servers and knows its NAT's mapping behaviour, which birthday
   * punching needs. Only when `stunServers` is undefined.
   */
  stunSiblings?: readonly string[];
  /** Offer only these local addresses (default: every interface). */
  hostAddresses?: string[];
  /**
   * Interface addresses never to offer or publish: a VPN's own device, since a
   * path to the peer through the tunnel would carry the tunnel inside itself.
   */
  avoidAddress?: (address: string) => boolean;
  /**
   * Ask this side's router for port mappings (PCP, NAT-PMP, UPnP IGD): each
   * punching attempt offers its socket's mapped address as a candidate, and a
   * server maps its listener and publishes that address. `gateway` names the
   * router (default: the default route's, or the LAN's usual router address).
   * Absent: no mapping is asked for.
   */
  portMapping?: { gateway?: string };
}

// One PortLeases per settings object: what one attempt learns of the router serves the next.
const leasesBySettings = new WeakMap<EndpointIce, PortLeases>();

/**
 * The port leases of `ice`'s punching attempts (one per settings object, so
 * what one attempt, or the server's listener, learns of the router serves the
 * next); undefined when it asks for no mappings.
 */
export function portLeasesOf(ice: EndpointIce, log: TunnelLog): PortLeases | undefined {
  const portMapping = ice.portMapping;
  if (!portMapping) return undefined;
  let leases = leasesBySettings.get(ice);
  if (!leases) {
    leases = new PortLeases({ gateway: portMapping.gateway, log });
    leasesBySettings.set(ice, leases);
  }
  return leases;
}

/** The port-mapping function of `ice`'s attempts, when it asks for mappings. */
function mapPortOf(
  ice: EndpointIce,
  log: TunnelLog,
): ((port: number, stunDone: Promise<void>) => Promise<PortLease | undefined>) | undefined {
  const leases = portLeasesOf(ice, log);
  return leases && ((port, stunDone) => leases.lease(port, stunDone));
}

/** The STUN servers of `relayUrls`: each host once, on {@linkcode RELAY_STUN_PORT}. */
export function relayStunServers(relayUrls: readonly string[]): string[] {
  const hosts = new Set<string>();
  for (const url of relayUrls) {
    try {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
      // An onion service carries no UDP, and its name must never reach a resolver.
      if (!host.toLowerCase().endsWith(".onion")) hosts.add(host);
    } catch { /* checked when the settings were resolved */ }
  }
  return [...hosts].map((host) => formatHostPort(host, RELAY_STUN_PORT));
}

/**
 * The STUN servers of attempts on `relayUrls`: those named, else the relays'
 * own, with their siblings' when one of them is a sibling.
 */
export function stunServersOf(ice: EndpointIce, relayUrls: readonly string[]): string[] {
  if (ice.stunServers) return ice.stunServers;
  const hostOf = (url: string) => URL.canParse(url) ? new URL(url).hostname : url;
  const siblings = ice.stunSiblings ?? [];
  const siblingHosts = new Set(siblings.map(hostOf));
  const withSiblings = relayUrls.some((url) => siblingHosts.has(hostOf(url)));
  return relayStunServers(withSiblings ? [...relayUrls, ...siblings] : relayUrls);
}

/**
 * Starts punching a direct path for a client session that began on `relayUrl`.
 * Attempts are logged at debug; a missing permission once, as a warning.
 */
export function startClientUpgrades(
  paths: SessionPaths,
  serverId: EndpointId,
  ice: EndpointIce,
  relayUrl: string,
  log: TunnelLog,
): Upgrader {
  return keepUpgrading(paths, serverId, {
    stunServers: stunServersOf(ice, [relayUrl]),
    hostAddresses: ice.hostAddresses,
    avoidAddress: ice.avoidAddress,
    mapPort: mapPortOf(ice, log),
    alpn: ALPN,
    log: { debug: (line) => log.debug(line), warn: (line) => log.warn(line) },
  });
}

/** What a server runs for each session: answers to its client's hole-punching offers. */
export function upgradeAnswerer(
  secretKey: SecretKey,
  ice: EndpointIce,
  relayUrls: readonly string[],
  log: TunnelLog,
): (paths: SessionPaths, label: string) => void {
  const stunServers = stunServersOf(ice, relayUrls);
  const mapPort = mapPortOf(ice, log);
  return (paths, label) => {
    answerUpgrades(paths, secretKey, {
      stunServers,
      hostAddresses: ice.hostAddresses,
      avoidAddress: ice.avoidAddress,
      mapPort,
      alpn: ALPN,
      log: {
        debug: (line) => log.debug(`[${label}] ${line}`),
        warn: (line) => log.warn(`[${label}] ${line}`),
      },
    });
  };
}
