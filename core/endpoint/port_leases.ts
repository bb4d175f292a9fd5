/**
 * Port mappings for hole punching: each attempt's ICE socket may be mapped at
 * the router, and its mapped address offered as a candidate. What one attempt
 * learns serves the next: the protocol that worked is asked first and alone,
 * and a router that answered nothing is left alone for a while, so an attempt
 * never waits on a router known to be silent.
 * @module
 */
import type { PortLease } from "../connect/mod.ts";
import {
  type MappingProtocol,
  type PortMapEvent,
  PortMapper,
  type PortMapping,
} from "../portmap/mod.ts";
import type { TunnelLog } from "../tunnel/mod.ts";

/** A router that answered no protocol is asked again after this long. */
export const RETRY_SILENT_ROUTER_MS = 5 * 60_000;
/**
 * Longest wait for a mapping while candidates are gathered (STUN runs
 * alongside). Before a protocol is known to work, the wait ends
 * `afterStun` past STUN's answers too, so a router that answers nothing
 * (most test beds, many networks) costs an attempt little: PCP and NAT-PMP
 * answer within it on a LAN. Once a protocol is known, UPnP's SOAP call fits
 * in `known`. A first attempt that is late goes on in the background, so the
 * next punching attempt knows the protocol.
 */
export const LEASE_WAIT_MS = { first: 500, afterStun: 100, known: 1_000 } as const;
/** Lease asked for: renewed at half of it while the path lives. */
const LEASE_SECONDS = 600;

/** The mapper a lease uses (a seam for tests). */
export type LeaseMapper = (
  port: number,
  protocols: readonly MappingProtocol[] | undefined,
  onEvent: (event: PortMapEvent) => void,
) => Pick<PortMapper, "start" | "close">;

/** Options of {@linkcode PortLeases}. */
export interface PortLeasesOptions {
  /** The router to ask; default: the default route's, or the LAN's usual router address. */
  gateway?: string;
  /** Where the mapper's lines go (debug). */
  log: TunnelLog;
  /** The mapper to use; default: a {@linkcode PortMapper}. */
  mapper?: LeaseMapper;
  /** The clock (tests). */
  now?: () => number;
}

/** Port leases for one endpoint's hole-punching attempts. */
export class PortLeases {
  readonly #options: PortLeasesOptions;
  readonly #now: () => number;
  #known: MappingProtocol | undefined;
  #silentUntil = 0;

  /** Leases asking `options.gateway`; nothing is sent before {@linkcode PortLeases.lease}. */
  constructor(options: PortLeasesOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * What a mapping attempt elsewhere found (the server's listener): the
   * protocol that worked, or undefined when the router answered none.
   */
  learned(protocol: MappingProtocol | undefined): void {
    if (protocol) {
      this.#known = protocol;
      this.#silentUntil = 0;
    } else if (this.#known) {
      this.#known = undefined; // it stopped answering: ask every protocol next time
    } else {
      this.#silentUntil = this.#now() + RETRY_SILENT_ROUTER_MS;
    }
  }

  /**
   * Maps `port`; resolves within {@linkcode LEASE_WAIT_MS} (before a protocol
   * is known, at most `afterStun` after `stunDone` settles) with the lease, or
   * undefined (a silent router, or one too slow for this attempt: that mapper
   * is closed, so nothing is left at the router).
   */
  async lease(port: number, stunDone?: Promise<void>): Promise<PortLease | undefined> {
    if (this.#now() < this.#silentUntil) return undefined;
    const known = this.#known;
    const { log } = this.#options;
    const onEvent = (event: PortMapEvent) => log.debug(event.line);
    const mapper = this.#options.mapper?.(port, known && [known], onEvent) ??
      new PortMapper({
        internalPort: port,
        gateway: this.#options.gateway,
        protocols: known && [known],
        lifetimeSeconds: LEASE_SECONDS,
        onEvent,
      });
    const waitMs = known ? LEASE_WAIT_MS.known : LEASE_WAIT_MS.first;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), waitMs);
      if (!known) {
        stunDone?.then(() => {
          clearTimeout(timer);
          timer = setTimeout(() => resolve("late"), LEASE_WAIT_MS.afterStun);
        });
      }
    });
    const mapping: PortMapping | undefined | "late" = await Promise.race([
      mapper.start().catch(() => undefined),
      late,
    ]);
    clearTimeout(timer);
    if (mapping === "late") {
      // Learn from it in the background, then give it up: this attempt has gone on.
      mapper.start().then((late) => late && this.learned(late.protocol), () => {})
        .finally(() => mapper.close().catch(() => {}));
      return undefined;
    }
    if (mapping === undefined) {
      this.learned(undefined);
      await mapper.close().catch(() => {});
      return undefined;
    }
    this.learned(mapping.protocol);
    let released: Promise<void> | undefined;
    return {
      address: mapping.external.address,
      port: mapping.external.port,
      protocol: mapping.protocol,
      release: () => released ??= mapper.close().catch(() => {}),
    };
  }
}
