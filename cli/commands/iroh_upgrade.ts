/**
 * iroh mode's hole punching, as the commands set it up: which STUN servers to
 * gather with (by default the relays', as iroh's relays and `tunnel relay`
 * answer STUN on port 3478), and starting the client's attempts and the
 * server's answers for each session.
 * @module
 */
import type { EndpointId, SecretKey } from "../../core/identity/mod.ts";
import { ALPN, formatHostPort, type SessionPaths } from "../../core/tunnel/mod.ts";
import { answerUpgrades, keepUpgrading, type Upgrader } from "../../core/upgrade/mod.ts";
import type { Output } from "../output.ts";
import type { IceSettings } from "./ice_options.ts";

/** The STUN port relays answer on (RFC 5389's default). */
export const RELAY_STUN_PORT = 3478;

/** iroh mode's ICE settings: no STUN server named means the relays' own. */
export interface IrohIceSettings {
  /** Named STUN servers; undefined: each relay's host on {@linkcode RELAY_STUN_PORT}. */
  stunServers?: string[];
  /** Offer only these local addresses (default: every interface). */
  hostAddresses?: string[];
  /**
   * Interface addresses never to offer or publish: VPN mode's own device, since a
   * path to the peer through the tunnel would carry the tunnel inside itself.
   */
  avoidAddress?: (address: string) => boolean;
}

/** The STUN servers of `relayUrls`: each host once, on {@linkcode RELAY_STUN_PORT}. */
export function relayStunServers(relayUrls: readonly string[]): string[] {
  const hosts = new Set<string>();
  for (const url of relayUrls) {
    try {
      hosts.add(new URL(url).hostname.replace(/^\[|\]$/g, ""));
    } catch { /* checked when the settings were resolved */ }
  }
  return [...hosts].map((host) => formatHostPort(host, RELAY_STUN_PORT));
}

/** From the ICE flags, where an absent `--stun-server` defers to the relays. */
export function irohIce(settings: IceSettings, stunNamed: boolean): IrohIceSettings {
  return {
    stunServers: stunNamed ? settings.stunServers : undefined,
    hostAddresses: settings.hostAddresses,
  };
}

/**
 * Starts punching a direct path for a session that began on `relayUrl`.
 * Attempts are reported at `-v`; a missing permission once, as a warning.
 */
export function startClientUpgrades(
  paths: SessionPaths,
  serverId: EndpointId,
  ice: IrohIceSettings,
  relayUrl: string,
  out: Output,
): Upgrader {
  return keepUpgrading(paths, serverId, {
    stunServers: ice.stunServers ?? relayStunServers([relayUrl]),
    hostAddresses: ice.hostAddresses,
    avoidAddress: ice.avoidAddress,
    alpn: ALPN,
    log: { debug: (line) => out.debug(line), warn: (line) => out.warn(line) },
  });
}

/** What the server runs for each session: answers to its client's hole-punching offers. */
export function upgradeAnswerer(
  secretKey: SecretKey,
  ice: IrohIceSettings,
  relayUrls: readonly string[],
  out: Output,
): (paths: SessionPaths, label: string) => void {
  const stunServers = ice.stunServers ?? relayStunServers(relayUrls);
  return (paths, label) => {
    answerUpgrades(paths, secretKey, {
      stunServers,
      hostAddresses: ice.hostAddresses,
      avoidAddress: ice.avoidAddress,
      alpn: ALPN,
      log: {
        debug: (line) => out.debug(`[${label}] ${line}`),
        warn: (line) => out.warn(`[${label}] ${line}`),
      },
    });
  };
}
