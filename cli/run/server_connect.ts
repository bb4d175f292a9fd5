/**
 * The iroh-mode client's settings turned into the paths core's endpoint dials
 * (core/endpoint `connectToServer`), and which failures are not worth retrying
 * ({@linkcode permanentFailure}), worded for the command line.
 * @module
 */
import type { ClientKey } from "../../core/auth/mod.ts";
import { AllAttemptsFailedError } from "../../core/connect/mod.ts";
import {
  connectToServer as connectToServerByPaths,
  type DirectAddress,
  RecordLookupError,
  type RelayAddress,
  type ServerSession,
} from "../../core/endpoint/mod.ts";
import type { EndpointId } from "../../core/identity/mod.ts";
import type { RecordDht } from "../../core/discovery/mod.ts";
import type { DhtSettings } from "../settings/dht_flags.ts";
import { RelayRefusedError, type WebSocketDial } from "../../core/relay/mod.ts";
import type { Socks5ProxyUrl } from "../../core/socks/mod.ts";
import { ConnectError } from "../../core/transport/mod.ts";
import {
  CLIENT_KEY_REFUSED,
  CLIENT_KEYS_NOT_ACCEPTED,
  type PathInfo,
  SessionRefusedError,
  type Source,
  type TunnelLog,
} from "../../core/tunnel/mod.ts";
import { resolveServerAddrs } from "./server_addrs.ts";
import { relayRefusalMessage, type RelayToken } from "../settings/relay_token.ts";

/** What connecting takes: who the server is, the ways to reach it, what to ask for. */
export interface ServerConnectSettings {
  /** The server's key. */
  serverId: EndpointId;
  /** Its direct addresses, as given (host names resolved at each connect). */
  serverAddrs: { hostname: string; port: number }[];
  /** Relays it is reachable at, named by the user. */
  relayUrls: string[];
  /** Whether the relays its record names are tried. */
  discoveredRelays: boolean;
  /** Only relay paths. */
  relayOnly: boolean;
  /** Where its record is looked up (none: no lookup there). */
  dnsServer?: string;
  /** Whether its record is also looked up in the Mainline DHT, and how to join it. */
  dht?: DhtSettings;
  /** The DHT node, once the command started it (with `dht`). */
  dhtNode?: RecordDht;
  /** Tor's SocksPort, which every (onion) relay connection goes through. */
  socks5Proxy?: Socks5ProxyUrl;
  /** How each relay connection is opened, once the command checked the proxy (with `socks5Proxy`). */
  relayDial?: WebSocketDial;
  /** What to authenticate with: a token, or a client key. */
  credential: string | ClientKey;
  /** The access token of the named relays (and of paths at their origins). */
  relayToken?: RelayToken;
  /** Published addresses not to dial: a VPN client's own network and routes. */
  avoidAddress?: (address: string) => boolean;
  /** The source to ask for, or another kind of request (`ip://…`). */
  source: Source | string;
}

export type { ServerSession };

/**
 * Connects to the server by every path, authenticates and requests the source.
 * `onConnected` hears where the server was reached before the session is opened.
 * @throws {Error} the one path's own error when there was one path, else a
 * summary of all; {@linkcode SessionRefusedError} when the server refused.
 */
export function connectToServer(
  settings: ServerConnectSettings,
  log: TunnelLog,
  onConnected?: (where: string) => void,
  onPathChange?: (path: PathInfo) => void,
): Promise<ServerSession> {
  const relayLog = { debug: (line: string) => log.debug(line) };
  const dnsServer = settings.dnsServer;
  return connectToServerByPaths({
    serverId: settings.serverId,
    addresses: async () => {
      // Names are resolved at each connect, and a name that fails is said with its flag.
      const direct = settings.serverAddrs.length > 0
        ? await resolveServerAddrs(settings.serverAddrs, log)
        : [];
      const addresses: (DirectAddress | RelayAddress)[] = direct.length > 0
        ? [{ kind: "direct", addrs: direct }]
        : [];
      for (const url of settings.relayUrls) {
        addresses.push({
          kind: "relay",
          url,
          accessToken: settings.relayToken?.for(url),
          log: relayLog,
          dial: settings.relayDial,
        });
      }
      return addresses;
    },
    lookup: dnsServer === undefined && settings.dhtNode === undefined ? undefined : {
      pkarrUrl: dnsServer,
      accessToken: dnsServer === undefined ? undefined : settings.relayToken?.for(dnsServer),
      dht: settings.dhtNode,
      relays: settings.discoveredRelays,
      directs: !settings.relayOnly,
      avoidAddress: settings.avoidAddress,
      relayAccessToken: (url) => settings.relayToken?.for(url),
    },
    credential: typeof settings.credential === "string"
      ? new TextEncoder().encode(settings.credential)
      : settings.credential,
    source: settings.source,
  }, { log, onConnected, onPathChange });
}

/**
 * The error to stop with when trying again cannot help: the server refused the
 * token or the source, or the peer at the address is not the server (or speaks
 * another version). Undefined for everything else (unreachable, a server at its
 * session limit, a dropped handshake), which is worth another attempt.
 * The messages are the ones a first connect ends with.
 */
export function permanentFailure(error: unknown): Error | undefined {
  // A relay that refused access refuses it again: a setting to fix, said once.
  if (error instanceof RelayRefusedError) {
    return error.access ? new Error(relayRefusalMessage(error), { cause: error }) : undefined;
  }
  if (error instanceof SessionRefusedError) {
    if (error.kind === "auth") {
      return new Error(`${error.message} (${authAdvice(error.reason)})`, { cause: error });
    }
    // A server from before client keys drops a key's first frame as unknown: it will again.
    if (error.kind === "closed" && /^unknown frame type 0x1[2-4]$/.test(error.reason)) {
      return new Error(
        `${error.message} (the server predates client keys: update it, or use a token)`,
        { cause: error },
      );
    }
    return error.kind === "source" ? error : undefined;
  }
  if (error instanceof ConnectError) {
    if (error.kind === "identity") {
      return new Error(`${error.message}; check --server-node-id`, { cause: error });
    }
    return error.kind === "version" ? error : undefined;
  }
  // Several paths, each of which met the wrong peer: as final as one.
  if (
    error instanceof AllAttemptsFailedError && error.failures.length > 0 &&
    error.failures.every((failure) => permanentFailure(failure.error) !== undefined)
  ) {
    return error;
  }
  return undefined;
}

/** What a refused client can do: a key the server does not list goes to its operator. */
function authAdvice(reason: string): string {
  if (reason === CLIENT_KEY_REFUSED) {
    return "ask the server's operator to add your public key to its --authorized-keys file; " +
      "'tunnel show-client-key --secret-file FILE' prints it";
  }
  if (reason === CLIENT_KEYS_NOT_ACCEPTED) return "ask the server's operator for a token";
  return "ask the server's operator for a valid token";
}

/**
 * The advice for a client that could only look its server up, when the lookup
 * failed (no answer, no record): the flags that reach a server without one.
 * Undefined when `error` is not such a failure, or the user named another way.
 */
export function lookupAdvice(
  error: unknown,
  settings: Pick<ServerConnectSettings, "serverAddrs" | "relayUrls">,
): string | undefined {
  if (settings.serverAddrs.length > 0 || settings.relayUrls.length > 0) return undefined;
  const lookup = recordLookupFailure(error);
  if (lookup === undefined || lookup.reason === "no-path" || lookup.reason === "no-usable-path") {
    return undefined;
  }
  return `the server was looked up ${lookup.where} only: if you know its address or relay, pass --server-addr HOST:PORT or --relay-url URL`;
}

/** The record lookup failure inside `error` (a race of paths nests it), if any. */
function recordLookupFailure(error: unknown): RecordLookupError | undefined {
  if (error instanceof RecordLookupError) return error;
  if (error instanceof AllAttemptsFailedError) {
    for (const failure of error.failures) {
      const found = recordLookupFailure(failure.error);
      if (found) return found;
    }
  }
  return undefined;
}
