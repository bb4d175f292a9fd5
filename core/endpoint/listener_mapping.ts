/**
 * The server's listener port mapped at its router (PCP, NAT-PMP or UPnP IGD),
 * so clients behind any NAT, a symmetric one included, can dial it directly:
 * the mapped address goes into the discovery record and the status view.
 * @module
 */
import { type PortMapEvent, PortMapper, type PortMapping } from "../portmap/mod.ts";
import type { TunnelLog } from "../tunnel/mod.ts";

/**
 * After a mapping is lost (the router forgot it or went away), the next try
 * comes this much later: routers restart in about a minute.
 */
export const REMAP_AFTER_LOSS_MS = 60_000;

/** The listener's mapping while the server runs. */
export interface ListenerMapping {
  /** The mapping the router granted, if any at the moment. */
  readonly current: PortMapping | undefined;
  /** Deletes the mapping at the router (bounded in time) and stops renewing. */
  close(): Promise<void>;
}

/** Options of {@linkcode mapListenerPort}. */
export interface ListenerMappingOptions {
  /** The listener's UDP port. */
  port: number;
  /** The gateway to ask; default: the default route's (or the LAN's usual router address). */
  gateway?: string;
  /** Lines: a mapping made or lost at info/warn, the rest at debug. */
  log: TunnelLog;
  /** Told when the mapping appears, changes or goes (the record is published again). */
  onChange(mapping: PortMapping | undefined): void;
  /** Told what the router answered: the protocol that mapped, or undefined for none. */
  onOutcome?(protocol: PortMapping["protocol"] | undefined): void;
  /** The mapper to use (tests); default: a {@linkcode PortMapper} for `port`. */
  mapper?: (onEvent: (event: PortMapEvent) => void) => Pick<PortMapper, "start" | "close">;
}

/**
 * Starts mapping the listener's port in the background; never throws, and
 * never delays the server's start.
 */
export function mapListenerPort(options: ListenerMappingOptions): ListenerMapping {
  const { log } = options;
  let current: PortMapping | undefined;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const onEvent = (event: PortMapEvent) => {
    if (closed) return;
    switch (event.type) {
      case "mapped":
      case "renewed": {
        const changed = current?.external.address !== event.mapping.external.address ||
          current?.external.port !== event.mapping.external.port;
        current = event.mapping;
        if (event.type === "mapped") {
          log.info(`Port mapping: ${describeMapping(event.mapping)}`);
          options.onOutcome?.(event.mapping.protocol);
        } else log.debug(event.line);
        if (changed) options.onChange(current);
        break;
      }
      case "lost":
        current = undefined;
        log.warn(`${capitalized(event.line)}; trying again in ${REMAP_AFTER_LOSS_MS / 1000} s`);
        options.onChange(undefined);
        retry = setTimeout(() => void mapper.start().catch(() => {}), REMAP_AFTER_LOSS_MS);
        Deno.unrefTimer(retry);
        break;
      case "unavailable":
        log.debug(event.line);
        options.onOutcome?.(undefined);
        break;
      default:
        log.debug(event.line);
    }
  };
  const mapper = options.mapper?.(onEvent) ??
    new PortMapper({ internalPort: options.port, gateway: options.gateway, onEvent });
  mapper.start().catch((error) => log.debug(`port mapping: ${(error as Error).message}`));
  return {
    get current() {
      return current;
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      current = undefined;
      await mapper.close().catch(() => {});
    },
  };
}

/** `198.51.100.20:40000 -> UDP port 7000 (NAT-PMP, lease 7200 s)`. */
export function describeMapping(mapping: PortMapping): string {
  const names = { pcp: "PCP", "nat-pmp": "NAT-PMP", upnp: "UPnP IGD" };
  const lease = mapping.lifetimeSeconds === 0 ? "permanent" : `lease ${mapping.lifetimeSeconds} s`;
  const cgnat = mapping.behindCgnat ? "; a carrier NAT is in front of the router" : "";
  return `${mapping.external.address}:${mapping.external.port} -> UDP port ${mapping.internalPort} (${
    names[mapping.protocol]
  }, ${lease}${cgnat})`;
}

function capitalized(line: string): string {
  return line.charAt(0).toUpperCase() + line.slice(1);
}
