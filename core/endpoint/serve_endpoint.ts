/**
 * A server reached by its key: a QUIC listener for direct clients, a presence
 * at each relay for the others, its record published for discovery, answers to
 * clients punching a direct path, and an accept loop whose sessions carry what
 * the caller's services serve. The caller words what it shows; this module
 * logs through core's log seam and tells the rest as events.
 * @module
 */
import type { AuthorizedKeys } from "../auth/mod.ts";
import type { SecretKey } from "../identity/mod.ts";
import { type RecordDht, startPublishing } from "../discovery/mod.ts";
import { sayIfSlow } from "../log/mod.ts";
import { isLoopbackAddress } from "../net/mod.ts";
import {
  pickHomeRelay,
  RelayRefusedError,
  serveViaRelay,
  type WebSocketDial,
} from "../relay/mod.ts";
import {
  CloseCode,
  congestionControlToward,
  listenQuic,
  type PeerConnection,
  type PeerListener,
  RELAYED_IDLE_TIMEOUT_MS,
  withLink,
} from "../transport/mod.ts";
import {
  ALPN,
  parseHostPort,
  type ServerLimits,
  serverLimits,
  type ServerServices,
  SessionHost,
  SessionRegistry,
  sharedPool,
  type TunnelLog,
} from "../tunnel/mod.ts";
import { dialableAddresses } from "./dialable_addresses.ts";
import { type ListenerMapping, mapListenerPort } from "./listener_mapping.ts";
import { publishedAddrs } from "./published_addrs.ts";
import type { PortMapping } from "../portmap/mod.ts";
import { type EndpointIce, portLeasesOf, upgradeAnswerer } from "./upgrades.ts";

/** How long start-up waits for each relay before going on without it. */
export const RELAY_READY_WAIT_MS = 5_000;

/** What a server that stops cleanly tells each client (a QUIC application close). */
export const SHUTDOWN_CLOSE = {
  code: CloseCode.ServerUnavailable,
  reason: "server shutting down",
} as const;

/**
 * How long a stopping server keeps its socket and relays after telling its
 * clients goodbye, so the close reaches them (through a relay it crosses the
 * shim and the relay's WebSocket) before the process exits. Loopback relays
 * deliver it in a few milliseconds; 300 ms leaves room for a relay across a
 * WAN while a stop still feels immediate.
 */
export const GOODBYE_LINGER_MS = 300;

/** What the server is. */
export interface EndpointServerSettings {
  /** Its key: its EndpointId, the certificate QUIC presents, its relay address. */
  secretKey: SecretKey;
  /** Checks a client's credential (in constant time). */
  authenticate(credential: Uint8Array): boolean;
  /** Client keys accepted beside the credentials; their proofs are bound to `secretKey`. */
  authorizedKeys?: AuthorizedKeys;
  /** Sessions at once. */
  maxSessions: number;
  /** The listener's address (a wildcard: every interface). */
  bind: { host: string; port: number };
  /** Relays to be present at (the first is the home relay). */
  relayUrls: string[];
  /** When no relay is named: the candidates the fastest of which becomes the home relay. */
  homeRelayCandidates?: readonly string[];
  /** Reachable only through relays: no direct address is offered, punched or published. */
  relayOnly: boolean;
  /** The pkarr relay the record is published to (none: no record there). */
  pkarrUrl?: string;
  /** The Mainline DHT the record is also published to, through this node (none: not there). */
  dht?: RecordDht;
  /** The access token for a relay (or a pkarr relay), when there is one. */
  accessTokenFor?(url: string): string | undefined;
  /** Opens each relay's TCP connection (through a SOCKS5 proxy); default a direct one. */
  relayDial?: WebSocketDial;
  /**
   * How to gather candidates when a client punches a direct path; its
   * `portMapping` also maps the listener's UDP port and publishes the mapped
   * address (not with `relayOnly`, nor for a listener on loopback).
   */
  ice: EndpointIce;
}

/** One place a server's record is published. */
export interface RecordPublication {
  /** "at https://…/pkarr" or "in the DHT". */
  where: string;
  /** The last publish that ended: when (ms since the epoch), and why it failed if it did. */
  last?: { at: number; error?: Error };
}

/** What the server tells as it starts and runs (all optional). */
export interface EndpointServerEvents {
  /** Status lines and details. */
  log: TunnelLog;
  /** Listening: before any relay is reached. `directAddrs` as `host:port` (or a hint). */
  onListening?(directAddrs: string[]): void;
  /** No candidate relay answered: `fallback` is tried in the background. */
  onNoHomeRelay?(fallback: string): void;
  /** A relay refused the server after start-up, or refused it for a reason retrying cannot fix. */
  onRelayRefused?(error: RelayRefusedError): void;
  /**
   * The first publish of the record failed (it is retried in the background;
   * later failures are logged as warnings, repeated ones summarised).
   */
  onPublishFailed?(error: Error): void;
}

/** A started server. */
export interface EndpointServer {
  /** The addresses it listens on, as dialable `host:port` (none when relay-only). */
  readonly directAddrs: readonly string[];
  /** The relays it is present at. */
  readonly relayUrls: readonly string[];
  /** Its sessions, for a status view. */
  readonly registry: SessionRegistry;
  /** The limits it serves within (their current use, for a status view). */
  readonly limits: ServerLimits;
  /** Its session pool (`--max-sessions`). */
  readonly sessions: { readonly active: number; readonly max: number };
  /** The listener's port mapping at the router, while there is one. */
  readonly portMapping: PortMapping | undefined;
  /**
   * Where its record is published ("at https://…/pkarr", "in the DHT") and how
   * the last publish there ended, for a status view.
   */
  readonly records: readonly RecordPublication[];
  /**
   * Stops accepting, tells every client {@linkcode SHUTDOWN_CLOSE} (waiting
   * {@linkcode GOODBYE_LINGER_MS} when there was one for it to leave), leaves
   * the relays and the record, and waits for the loop to end.
   */
  close(): Promise<void>;
}

/**
 * Starts the server: listens, reaches its relays (waiting up to
 * {@linkcode RELAY_READY_WAIT_MS} for each), publishes its record, and accepts
 * clients whose sessions carry `services(limits)`.
 * @throws {Error} when it cannot listen; {@linkcode RelayRefusedError} when a
 * relay refused it access at start-up (a setting to fix).
 */
export async function startEndpointServer(
  settings: EndpointServerSettings,
  services: (limits: ServerLimits) => ServerServices,
  events: EndpointServerEvents,
): Promise<EndpointServer> {
  const { log } = events;
  const limits = serverLimits(log);
  let listener: PeerListener;
  try {
    listener = listenQuic({
      hostname: settings.bind.host,
      port: settings.bind.port,
      secretKey: settings.secretKey,
      alpn: ALPN,
      // Its clients come over the paths its address faces (a wildcard: real networks,
      // BBR). The relay shim's connections share the listener: on the emulated WAN
      // (80 ms, server -> client through a relay) BBR on this side moved 7.7 MB/s
      // against 7.2 with the default, and 2.3-2.5 against 1.1-1.4 with 0.5% loss, so
      // they need no listener of their own. docs/BENCHMARKS.md, "Congestion control per path".
      congestionControl: congestionControlToward(settings.bind.host),
      // Relayed clients come through this listener too: their connections must outlive
      // a relay outage (sessions judge their peer themselves, core/transport/liveness.ts).
      // Each connection takes the lower of both offers, so direct clients, which offer
      // 6 s, keep 6 s.
      idleTimeoutMs: RELAYED_IDLE_TIMEOUT_MS,
      // Handshakes count as unauthenticated connections: while those are at
      // their limit new attempts are refused before they cost a handshake.
      admission: limits.unauthenticated,
      onHandshakeFailed: (address, reason) =>
        limits.warnings.report(
          `handshake: ${reason}`,
          `connection attempt${address ? ` from ${address}` : ""} failed: ${reason}`,
        ),
    });
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : (error as Error).message;
    throw new Error(`Cannot listen on ${settings.bind.host}:${settings.bind.port}: ${why}`);
  }
  const skip = settings.ice.avoidAddress ?? (() => false);
  // Addresses of a VPN's own device are left out: a client dialing one through its
  // tunnel would carry the tunnel inside itself.
  const directAddrs = settings.relayOnly
    ? []
    : dialableAddresses(listener.addr).filter((addr) => !skip(hostOf(addr)));
  events.onListening?.(directAddrs);
  const wildcard = settings.bind.host === "::" || settings.bind.host === "0.0.0.0";
  let relayUrls = settings.relayUrls;
  const candidates = settings.homeRelayCandidates;
  if (relayUrls.length === 0 && candidates && candidates.length > 0) {
    const home = await sayIfSlow(
      pickHomeRelay(candidates),
      () => log.info(`Relay: finding the nearest of ${candidates.length} public relays...`),
    );
    if (!home) events.onNoHomeRelay?.(candidates[0]);
    relayUrls = [home ?? candidates[0]];
  }
  // Set once the first publish is under way; relay reconnections republish through it.
  const discovery: {
    publisher?: ReturnType<typeof startPublishing>;
    dhtPublisher?: ReturnType<typeof startPublishing>;
  } = {};
  const republish = () => {
    discovery.publisher?.publish();
    discovery.dhtPublisher?.publish();
  };
  // A refusal at start-up ends the start (below); one later is told once, as it happens.
  let started = false;
  const presences = relayUrls.map((url) => {
    log.info(`Relay: ${url}`);
    return serveViaRelay({
      relayUrl: url,
      secretKey: settings.secretKey,
      accessToken: settings.accessTokenFor?.(url),
      dial: settings.relayDial,
      onRefused: (error) => {
        if (started) events.onRelayRefused?.(error);
      },
      listenerPort: listener.addr.port,
      listenerHostname: wildcard ? undefined : listener.addr.hostname,
      log: { debug: (line) => log.debug(line) },
      onStateChange: (connected) => {
        limits.warnings.report(
          `relay ${url} ${connected}`,
          connected ? `Relay ${url}: connected` : `Relay ${url}: lost, reconnecting`,
        );
        // A restarted pkarr relay (often the same process) has lost our record.
        if (connected) discovery.publisher?.publish();
      },
    });
  });
  const pkarrUrl = settings.pkarrUrl;
  // A mapped port is one more direct address, found in the background: the record
  // is published again when it appears, changes or goes.
  // A listener on loopback is not reachable from the LAN, let alone mapped to it.
  const mappable = !settings.relayOnly && !isLoopbackAddress(settings.bind.host);
  const portMapping = settings.ice.portMapping;
  const mapping: ListenerMapping | undefined = !mappable || !portMapping
    ? undefined
    : mapListenerPort({
      port: listener.addr.port,
      gateway: portMapping.gateway,
      log,
      onChange: republish,
      // What the listener's mapping found spares the punching attempts a wait.
      onOutcome: (protocol) => portLeasesOf(settings.ice, log)?.learned(protocol),
    });
  const recordAddrs = (pkarr: string | undefined) => {
    const addrs = publishedAddrs(directAddrs, pkarr);
    const mapped = mapping?.current?.external;
    if (mapped) addrs.push({ hostname: mapped.address, port: mapped.port });
    return addrs;
  };
  // The record goes out while the relays are reached: each wait may be seconds offline.
  const publisher = pkarrUrl === undefined ? undefined : startPublishing({
    secretKey: settings.secretKey,
    destination: { pkarrUrl, accessToken: settings.accessTokenFor?.(pkarrUrl) },
    contents: () => ({ relayUrls, addrs: recordAddrs(pkarrUrl) }),
    onError: (error) => {
      if (started) limits.warnings.report("publish", `Discovery: ${error.message}`);
    },
    onRecovered: () => log.info(`Discovery: published to ${pkarrUrl}`),
  });
  discovery.publisher = publisher;
  // The DHT's first put is a lookup of its own (seconds on the public DHT):
  // the start does not wait for it, and its outcome is told when it comes.
  const dht = settings.dht;
  const dhtPublisher = dht === undefined ? undefined : startPublishing({
    secretKey: settings.secretKey,
    destination: { dht },
    contents: () => ({ relayUrls, addrs: recordAddrs(undefined) }),
    onError: (error) => {
      limits.warnings.report("publish-dht", `Discovery: ${error.message}`);
    },
    onRecovered: () => log.info("Discovery: published to the DHT"),
  });
  discovery.dhtPublisher = dhtPublisher;
  dhtPublisher?.first.then((failure) => {
    if (!failure) log.info("Discovery: published to the DHT");
  });
  const published = publisher &&
    sayIfSlow(publisher.first, () => log.info(`Discovery: publishing to ${pkarrUrl}...`));
  // Clients through a relay reach us only once we are there: wait a little for it.
  const refusals: RelayRefusedError[] = [];
  await Promise.all(
    presences.map((presence, i) =>
      sayIfSlow(
        presence.relay.ready(RELAY_READY_WAIT_MS),
        () =>
          log.info(`Relay: waiting for ${relayUrls[i]} (up to ${RELAY_READY_WAIT_MS / 1000} s)...`),
      ).catch((error) => {
        if (error instanceof RelayRefusedError) {
          // Refused access is a setting to fix, not an outage: stop.
          if (error.access) return void refusals.push(error);
          return events.onRelayRefused?.(error);
        }
        log.warn(still(error as Error, relayUrls[i]));
      })
    ),
  );
  if (refusals.length > 0) {
    publisher?.stop();
    dhtPublisher?.stop();
    await mapping?.close();
    for (const presence of presences) presence.close();
    listener.close();
    limits.warnings.close();
    throw refusals[0];
  }
  if (published) {
    const failure = await published;
    if (failure) events.onPublishFailed?.(failure);
    else log.info(`Discovery: published to ${pkarrUrl}`);
  }
  started = true;

  // Relay-only offers no direct path, punched or published.
  const answerUpgrades = settings.relayOnly
    ? undefined
    : upgradeAnswerer(settings.secretKey, settings.ice, relayUrls, log);
  const sessions = sharedPool(settings.maxSessions);
  const registry = new SessionRegistry();
  const host = new SessionHost({
    services: services(limits),
    clientKeys: settings.authorizedKeys && {
      keys: settings.authorizedKeys,
      serverId: settings.secretKey.endpointId.bytes,
    },
    sessions,
    log,
    unauthenticated: limits.unauthenticated,
    warnings: limits.warnings,
    onPaths: answerUpgrades,
    registry,
    // A relayed client reaches the listener from a shim on this machine: name it
    // by the key it holds at the relay instead.
    describePeer: (address) => {
      for (const [i, presence] of presences.entries()) {
        const peer = presence.peerAt(address);
        if (peer) return `${peer} through relay ${relayUrls[i]}`;
      }
      return undefined;
    },
  });
  // Set once close() has said goodbye: a client that arrives during the linger is told the same.
  let closing = false;
  // A client through a relay: its session waits while that relay connection of ours is away.
  const linked = (conn: PeerConnection): PeerConnection => {
    const presence = presences.find((presence) => presence.peerAt(conn.remoteAddr));
    return presence ? withLink(conn, presence.link) : conn;
  };
  const serving = (async () => {
    for (;;) {
      const conn = await listener.accept();
      if (!conn) return;
      if (closing) conn.close(SHUTDOWN_CLOSE);
      else host.serve(linked(conn), (credential) => settings.authenticate(credential));
    }
  })();
  return {
    directAddrs,
    relayUrls,
    registry,
    limits,
    sessions,
    get portMapping() {
      return mapping?.current;
    },
    get records() {
      const places: RecordPublication[] = [];
      if (publisher) places.push({ where: `at ${pkarrUrl}`, last: publisher.last });
      if (dhtPublisher) places.push({ where: "in the DHT", last: dhtPublisher.last });
      return places;
    },
    async close() {
      publisher?.stop();
      dhtPublisher?.stop();
      const unmapped = mapping?.close();
      closing = true;
      if (host.closeAll(SHUTDOWN_CLOSE) > 0) {
        await new Promise((resolve) => setTimeout(resolve, GOODBYE_LINGER_MS));
      }
      for (const presence of presences) presence.close();
      listener.close();
      await serving;
      await unmapped;
      limits.warnings.close();
    },
  };
}

/** The line for a relay not reached at start-up, naming it once. */
function still(error: Error, url: string): string {
  const named = error.message.includes(url) ? "" : ` (${url})`;
  return `${error.message}; still trying in the background${named}`;
}

// The host of a `dialableAddresses` entry (`[::1]:7000` gives `::1`); "" for its hint line.
function hostOf(addr: string): string {
  try {
    return parseHostPort(addr).host;
  } catch {
    return "";
  }
}
