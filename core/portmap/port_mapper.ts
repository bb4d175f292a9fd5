/**
 * The port mapper: tries PCP, then NAT-PMP, then UPnP IGD for one local UDP port, each
 * within its own deadline; renews at half the lease; reports a lease that could not be
 * renewed before it ran out as lost; deletes the mapping on close, within a bound.
 * @module
 */
import {
  type ClientContext,
  type Grant,
  type MappingClient,
  type MappingProtocol,
  natPmpClient,
  pcpClient,
  upnpClient,
} from "./clients.ts";
import { type OpenDatagramSocket, openUdpSocket } from "./datagram.ts";
import { PortMapError } from "./errors.ts";
import { localAddressFor, readDefaultGateway } from "./gateway.ts";
import { type HttpTransport, tcpHttpTransport } from "./http_request.ts";
import { externalAddressKind, isIpv4 } from "./ipv4.ts";

/** A mapping the gateway granted. */
export interface PortMapping {
  /** Which protocol granted it. */
  protocol: MappingProtocol;
  /** Where peers send to reach the local port. */
  external: { address: string; port: number };
  /** The local UDP port mapped. */
  internalPort: number;
  /** Seconds the lease lasts from when it was granted or renewed; 0: permanent (UPnP). */
  lifetimeSeconds: number;
  /** The external address is in 100.64.0.0/10: a carrier NAT sits in front of the gateway. */
  behindCgnat: boolean;
}

/** What the mapper reports. Each event's `line` is one line fit for a log. */
export type PortMapEvent =
  | { type: "mapped"; mapping: PortMapping; line: string }
  | { type: "renewed"; mapping: PortMapping; line: string }
  | { type: "lost"; mapping: PortMapping; line: string }
  | { type: "unavailable"; line: string }
  | { type: "ignored"; line: string };

/** Protocols in the order they are tried. */
export const MAPPING_PROTOCOLS: readonly MappingProtocol[] = ["pcp", "nat-pmp", "upnp"];

/** Default deadlines, milliseconds: each protocol's attempt, and close(). */
export const PORT_MAP_DEADLINES = {
  pcp: 1_000,
  "nat-pmp": 1_000,
  upnp: 2_500,
  close: 1_000,
} as const;

/** Options of {@link PortMapper}. */
export interface PortMapperOptions {
  /** The local UDP port to map (the endpoint's socket). */
  internalPort: number;
  /** The IPv4 gateway; default: the default route in /proc/net/route. */
  gateway?: string;
  /** This host's LAN address; default: the interface address on the gateway's subnet. */
  localAddress?: string;
  /** Prefix length of the LAN (default: from the interface, else 24). */
  prefixLength?: number;
  /** Protocols to try, in this order (default all: PCP, NAT-PMP, UPnP). */
  protocols?: readonly MappingProtocol[];
  /** Lease asked for, seconds (default 7200). */
  lifetimeSeconds?: number;
  /** Per-protocol and close deadlines, milliseconds (defaults {@link PORT_MAP_DEADLINES}). */
  deadlines?: Partial<Record<MappingProtocol | "close", number>>;
  /** Called for every event; must not throw. */
  onEvent?: (event: PortMapEvent) => void;
  /** Replaces the protocol clients (in-memory fakes in tests). */
  clients?: readonly MappingClient[];
  /** I/O replacements for tests: sockets, HTTP, the PCP/NAT-PMP port, the SSDP target. */
  io?: Partial<Pick<ClientContext, "openSocket" | "http" | "gatewayPort" | "ssdpTarget">>;
}

// Leases shorter than this are refused: renewing every second would be a storm.
const MIN_LIFETIME_SECONDS = 2;
// Timers cannot wait longer than 2^31-1 ms; a longer lease is renewed at this interval.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Gets and keeps one UDP port mapping.
 *
 * ```ts
 * const mapper = new PortMapper({ internalPort: 4433, onEvent: (e) => console.log(e.line) });
 * const mapping = await mapper.start(); // undefined: no gateway offered one
 * // ... mapper.mapping follows renewals; undefined once lost
 * await mapper.close(); // deletes it at the gateway
 * ```
 */
export class PortMapper {
  #options: PortMapperOptions;
  #client: MappingClient | undefined;
  #grant: Grant | undefined;
  #mapping: PortMapping | undefined;
  #expiresAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #starting: Promise<PortMapping | undefined> | undefined;
  #inFlight = new AbortController();

  /** Builds the mapper; nothing is sent before {@link PortMapper.start}. */
  constructor(options: PortMapperOptions) {
    const port = options.internalPort;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new PortMapError(`port mapping: internal port ${port} is not a port`);
    }
    this.#options = options;
  }

  /** The current mapping, undefined before one is granted and after it is lost or closed. */
  get mapping(): PortMapping | undefined {
    return this.#mapping;
  }

  #emit(event: PortMapEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch { /* a listener's failure is not the mapper's */ }
  }

  async #clients(): Promise<MappingClient[] | string> {
    const o = this.#options;
    const wanted = o.protocols ?? MAPPING_PROTOCOLS;
    if (o.clients) return o.clients.filter((c) => wanted.includes(c.protocol));
    let gateway = o.gateway;
    if (gateway === undefined) {
      const found = await readDefaultGateway();
      if (!found.ok) return found.reason;
      gateway = found.gateway.address;
    }
    if (!isIpv4(gateway)) {
      return `no port mapping: gateway ${gateway.slice(0, 40)} is not an IPv4 address`;
    }
    let local = o.localAddress
      ? { address: o.localAddress, prefixLength: o.prefixLength ?? 24 }
      : undefined;
    if (!local) {
      try {
        local = localAddressFor(gateway, Deno.networkInterfaces());
      } catch {
        return "no port mapping: finding the LAN address needs --allow-sys=networkInterfaces";
      }
      if (!local) return `no port mapping: no local address on the gateway ${gateway}'s network`;
    }
    const ctx: ClientContext = {
      gateway,
      localAddress: local.address,
      prefixLength: o.prefixLength ?? local.prefixLength,
      openSocket: o.io?.openSocket ?? (openUdpSocket as OpenDatagramSocket),
      http: o.io?.http ?? (tcpHttpTransport as HttpTransport),
      gatewayPort: o.io?.gatewayPort,
      ssdpTarget: o.io?.ssdpTarget,
      onIgnored: (line) => this.#emit({ type: "ignored", line }),
    };
    const make = { pcp: pcpClient, "nat-pmp": natPmpClient, upnp: upnpClient };
    return wanted.map((p) => make[p](ctx));
  }

  #deadline(protocol: MappingProtocol | "close"): AbortSignal {
    const ms = this.#options.deadlines?.[protocol] ?? PORT_MAP_DEADLINES[protocol];
    // close() aborts requests in flight, but its own deletion runs on its own deadline.
    if (protocol === "close") return AbortSignal.timeout(ms);
    return AbortSignal.any([AbortSignal.timeout(ms), this.#inFlight.signal]);
  }

  #toMapping(protocol: MappingProtocol, grant: Grant): PortMapping {
    return {
      protocol,
      external: { address: grant.externalAddress, port: grant.externalPort },
      internalPort: this.#options.internalPort,
      lifetimeSeconds: grant.lifetimeSeconds,
      behindCgnat: externalAddressKind(grant.externalAddress) === "cgnat",
    };
  }

  async #request(client: MappingClient, previous: Grant | undefined): Promise<Grant> {
    const grant = await client.map(
      this.#options.internalPort,
      this.#options.lifetimeSeconds ?? 7200,
      previous,
      this.#deadline(client.protocol),
    );
    if (grant.lifetimeSeconds !== 0 && grant.lifetimeSeconds < MIN_LIFETIME_SECONDS) {
      throw new PortMapError(
        `${client.protocol}: lease of ${grant.lifetimeSeconds} s is too short`,
      );
    }
    return grant;
  }

  /**
   * Tries each protocol in turn; resolves with the first mapping, or undefined (after one
   * "unavailable" event naming why) when none worked. Bounded by the sum of the deadlines.
   * Calls while an attempt runs share it; after a "lost" event, calling it again tries anew.
   */
  start(): Promise<PortMapping | undefined> {
    if (this.#closed) return Promise.reject(new PortMapError("port mapping: the mapper is closed"));
    if (this.#mapping) return Promise.resolve(this.#mapping);
    return this.#starting ??= this.#attempt().finally(() => this.#starting = undefined);
  }

  async #attempt(): Promise<PortMapping | undefined> {
    const clients = await this.#clients();
    if (typeof clients === "string") {
      this.#emit({ type: "unavailable", line: clients });
      return undefined;
    }
    const failures: string[] = [];
    for (const client of clients) {
      if (this.#closed) break;
      try {
        const grant = await this.#request(client, undefined);
        if (this.#closed) {
          await client.unmap(this.#options.internalPort, grant, this.#deadline("close")).catch(
            () => {},
          );
          break;
        }
        this.#client = client;
        this.#granted(grant);
        const m = this.#mapping!;
        this.#emit({
          type: "mapped",
          mapping: m,
          line:
            `port mapping: ${m.protocol} maps ${m.external.address}:${m.external.port} to local port ${m.internalPort}` +
            (m.lifetimeSeconds ? ` for ${m.lifetimeSeconds} s` : " (permanent)") +
            (m.behindCgnat ? " (behind a carrier NAT)" : ""),
        });
        return m;
      } catch (error) {
        failures.push(`${client.protocol}: ${oneLine(error)}`);
      }
    }
    this.#emit({
      type: "unavailable",
      line: failures.length
        ? `no port mapping (${failures.join("; ")})`
        : "no port mapping: no protocol to try",
    });
    return undefined;
  }

  #granted(grant: Grant): void {
    this.#grant = grant;
    this.#mapping = this.#toMapping(this.#client!.protocol, grant);
    if (grant.lifetimeSeconds === 0) return; // permanent: nothing to renew
    this.#expiresAt = Date.now() + grant.lifetimeSeconds * 1000;
    this.#schedule(Math.min(grant.lifetimeSeconds * 500, MAX_TIMER_MS));
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#renew(), ms);
  }

  async #renew(): Promise<void> {
    const client = this.#client;
    const mapping = this.#mapping;
    if (this.#closed || !client || !mapping) return;
    try {
      const grant = await this.#request(client, this.#grant);
      if (this.#closed) return;
      this.#granted(grant);
      const m = this.#mapping!;
      this.#emit({
        type: "renewed",
        mapping: m,
        line:
          `port mapping: ${m.protocol} renewed ${m.external.address}:${m.external.port} for ${m.lifetimeSeconds} s`,
      });
    } catch (error) {
      if (this.#closed) return;
      const left = this.#expiresAt - Date.now();
      if (left > 1_000) {
        // Retry at half the time left: several tries before the lease runs out.
        this.#schedule(Math.max(500, left / 2));
        return;
      }
      // The last try failed: the mapping is gone once the lease has run out.
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        if (this.#closed) return;
        this.#mapping = undefined;
        this.#grant = undefined;
        this.#emit({
          type: "lost",
          mapping,
          line:
            `port mapping: ${mapping.protocol} mapping ${mapping.external.address}:${mapping.external.port} lost (renewal failed: ${
              oneLine(error)
            })`,
        });
      }, Math.max(0, left));
    }
  }

  /** Stops renewing and deletes the mapping at the gateway, within the close deadline. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#inFlight.abort();
    const client = this.#client;
    const grant = this.#grant;
    this.#mapping = undefined;
    this.#grant = undefined;
    if (!client || !grant) return;
    await client.unmap(this.#options.internalPort, grant, this.#deadline("close"))
      .catch((error) =>
        this.#emit({ type: "ignored", line: `port mapping: delete failed: ${oneLine(error)}` })
      );
  }
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}
