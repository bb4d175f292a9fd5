/**
 * How the iroh-mode client gets a session with its server: every path at once
 * (direct addresses, relays, the discovery lookup and the paths it finds), the
 * first to authenticate the server's key wins, then authentication and the
 * source request. The same whole connect runs at start and on each reconnect;
 * {@linkcode permanentFailure} says which failures are not worth retrying.
 * @module
 */
import {
  AllAttemptsFailedError,
  type ConnectAttempt,
  firstToConnect,
} from "../../core/connect/mod.ts";
import { resolveRecord } from "../../core/discovery/mod.ts";
import type { EndpointId } from "../../core/identity/mod.ts";
import { dialViaRelay, RelayRefusedError } from "../../core/relay/mod.ts";
import { congestionControlToward, ConnectError, dialQuic } from "../../core/transport/mod.ts";
import {
  ALPN,
  type ClientSession,
  formatHostPort,
  openClientSession,
  type PathInfo,
  SessionRefusedError,
  type Source,
  type TunnelLog,
} from "../../core/tunnel/mod.ts";
import { resolveServerAddrs } from "./server_addrs.ts";
import { relayRefusalMessage, type RelayToken } from "./relay_token.ts";

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
  /** Where its record is looked up (none: no lookup). */
  dnsServer?: string;
  /** The token to present. */
  token: string;
  /** The access token of the named relays (and of paths at their origins). */
  relayToken?: RelayToken;
  /** Published addresses not to dial: a VPN client's own network and routes. */
  avoidAddress?: (address: string) => boolean;
  /** The source to ask for, or another kind of request (`ip://…`). */
  source: Source | string;
}

/** A session with the server, and where it was reached. */
export interface ServerSession {
  session: ClientSession;
  /** "at 192.0.2.1:7000" or "through relay https://…", for the user. */
  where: string;
  /** The relay the session's first path goes through, when it does. */
  relayUrl?: string;
}

/**
 * Connects to the server by every path, authenticates and requests the source.
 * `onConnected` hears where the server was reached before the session is opened.
 * @throws {Error} the one path's own error when there was one path, else a
 * summary of all; {@linkcode SessionRefusedError} when the server refused.
 */
export async function connectToServer(
  settings: ServerConnectSettings,
  log: TunnelLog,
  onConnected?: (where: string) => void,
  onPathChange?: (path: PathInfo) => void,
): Promise<ServerSession> {
  const direct = settings.serverAddrs.length > 0
    ? await resolveServerAddrs(settings.serverAddrs, log)
    : [];
  const dialDirect = (addrs: { hostname: string; port: number }[]): ConnectAttempt => ({
    label: "direct",
    connect: () =>
      dialQuic({
        addrs,
        endpointId: settings.serverId,
        alpn: ALPN,
        congestionControl: congestionControlToward,
      }),
  });
  const dialRelay = (url: string): ConnectAttempt => ({
    label: `relay ${url}`,
    connect: () =>
      dialViaRelay({
        relayUrl: url,
        serverId: settings.serverId,
        alpn: ALPN,
        accessToken: settings.relayToken?.for(url),
        log: { debug: (line: string) => log.debug(line) },
      }),
  });
  // Every path at once, the lookup among them; the first to authenticate the server's key wins.
  const attempts: ConnectAttempt[] = [
    ...(direct.length > 0 ? [dialDirect(direct)] : []),
    ...settings.relayUrls.map(dialRelay),
  ];
  const dnsServer = settings.dnsServer;
  if (dnsServer !== undefined) {
    attempts.push({
      label: `discovery at ${dnsServer}`,
      connect: async (signal) => {
        const found = await discover(
          settings.serverId,
          dnsServer,
          settings.relayToken?.for(dnsServer),
          log,
          signal,
        );
        const relays = settings.discoveredRelays
          ? found.relayUrls.filter((url) => !settings.relayUrls.includes(url))
          : [];
        const avoid = settings.avoidAddress ?? (() => false);
        const addrs = settings.relayOnly ? [] : found.addrs.filter((a) => !avoid(a.hostname));
        const more = [...(addrs.length > 0 ? [dialDirect(addrs)] : []), ...relays.map(dialRelay)];
        if (more.length === 0) {
          throw new Error(
            `The discovery record of ${settings.serverId} at ${dnsServer} names no path this client may use`,
          );
        }
        return await firstToConnect(more);
      },
    });
  }
  const { conn, label } = await firstToConnect(attempts).catch((error) => {
    // One path: its own error, which may be a ConnectError that permanentFailure knows.
    throw unwrapSingleFailure(error);
  });
  const where = label === "direct"
    ? `at ${formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port)}`
    : `through ${label}`;
  onConnected?.(where);
  const relayUrl = label.startsWith("relay ") ? label.slice("relay ".length) : undefined;
  const session = await openClientSession(
    conn,
    new TextEncoder().encode(settings.token),
    settings.source,
    {
      path: relayUrl === undefined
        ? { kind: "direct", label: formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port) }
        : { kind: "relay", label: relayUrl },
      onPathChange,
    },
  );
  return { session, where, relayUrl };
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
      return new Error(`${error.message} (ask the server's operator for a valid token)`, {
        cause: error,
      });
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

/**
 * The server's relays and addresses from its signed record.
 * @throws {Error} naming the pkarr relay when it has no record or cannot be asked.
 */
async function discover(
  serverId: EndpointId,
  dnsServer: string,
  accessToken: string | undefined,
  log: TunnelLog,
  signal: AbortSignal,
) {
  const record = await resolveRecord(serverId, { relayUrl: dnsServer, accessToken, signal });
  if (!record) {
    throw new Error(
      `No discovery record for ${serverId} at ${dnsServer}: is the server running with --dns-server ${dnsServer}?`,
    );
  }
  log.debug(
    `discovery: relays ${record.relayUrls.join(", ") || "none"}; addresses ${
      record.addrs.map((a) => formatHostPort(a.hostname, a.port)).join(", ") || "none"
    }`,
  );
  if (record.relayUrls.length === 0 && record.addrs.length === 0) {
    throw new Error(
      `The discovery record of ${serverId} at ${dnsServer} names no relay or address`,
    );
  }
  return record;
}

/** The error of the one path there was, else the summary of all. */
function unwrapSingleFailure(error: unknown): unknown {
  return error instanceof AllAttemptsFailedError && error.failures.length === 1
    ? unwrapSingleFailure(error.failures[0].error)
    : error;
}
