/**
 * A client's way to a server known by its key: every path at once (the
 * addresses it was given, the lookup of the server's record and the paths that
 * names), the first to prove the server's key wins and the others are aborted;
 * then authentication and the request. The same whole connect runs at start
 * and on each reconnect.
 * @module
 */
import { AllAttemptsFailedError, type ConnectAttempt, firstToConnect } from "../connect/mod.ts";
import {
  type PkarrRecord,
  PkarrRelayError,
  type RecordDht,
  resolveRecord,
  resolveRecordByDns,
  resolveRecordFromDht,
} from "../discovery/mod.ts";
import type { ClientKey } from "../auth/mod.ts";
import type { EndpointId } from "../identity/mod.ts";
import { isRelayedKind, type PathInfo, type PeerConnection } from "../transport/mod.ts";
import {
  ALPN,
  type ClientSession,
  formatHostPort,
  openClientSession,
  type Source,
  type TunnelLog,
} from "../tunnel/mod.ts";
import type { DirectAddress } from "./direct_path.ts";
import { dialerFor, dialPath, type DialTarget, type PathAddress } from "./path_dialer.ts";
import type { RelayAddress } from "./relay_path.ts";

/**
 * Where the server's record is looked up (a pkarr relay or DNS server, the
 * DHT, or both at once: the first record found is used), and which of its
 * paths this client may take.
 */
export interface RecordLookup {
  /**
   * The pkarr relay the server publishes to (`http(s)://…`), or a DNS server
   * that serves its record (`dns://IP:PORT/ORIGIN`).
   */
  pkarrUrl?: string;
  /** Sent to the pkarr relay, when it wants one. */
  accessToken?: string;
  /** The Mainline DHT, through this node. */
  dht?: RecordDht;
  /** Whether the relays the record names are dialed (beyond those already given). */
  relays: boolean;
  /** Whether the direct addresses the record names are dialed. */
  directs: boolean;
  /** Addresses never to dial (a VPN client's own network and routes). */
  avoidAddress?: (address: string) => boolean;
  /** The access token of a relay the record names, if this client has one for it. */
  relayAccessToken?: (url: string) => string | undefined;
}

/** What connecting takes. */
export interface ServerConnectTarget {
  /** The server's key. */
  serverId: EndpointId;
  /** Addresses to dial at once, made at each connect (names resolved afresh). */
  addresses: () => Promise<PathAddress[]>;
  /** The server's record, looked up alongside (none: no lookup). */
  lookup?: RecordLookup;
  /** What to authenticate with: a token's bytes, or a client key (its proof bound to `serverId`). */
  credential: Uint8Array | ClientKey;
  /** The source to ask for, or another kind of request (`ip://…`). */
  source: Source | string;
}

/** What a connect tells as it goes. */
export interface ConnectEvents {
  /** Detail (the record found, relay state). */
  log: TunnelLog;
  /** The server was reached ("at 192.0.2.1:7000", "through relay https://…"), before the session opens. */
  onConnected?(where: string): void;
  /** New traffic of the session moved to `path`. */
  onPathChange?(path: PathInfo): void;
  /** The server's record was found `where` ("at https://…/pkarr", "in the DHT"). */
  onRecord?(where: string, record: PkarrRecord): void;
}

/** A session with the server, and where it was reached. */
export interface ServerSession {
  /** The authenticated session. */
  session: ClientSession;
  /** "at 192.0.2.1:7000" or "through relay https://…", for people. */
  where: string;
  /** The relay the session's first path goes through, when it does. */
  relayUrl?: string;
  /** The server's record, when this connect found it before the session opened. */
  record?: FoundRecord;
}

/** A record a connect found, and where. */
export interface FoundRecord {
  /** "at https://…/pkarr", "at dns://…", "in the DHT". */
  where: string;
  /** When the server signed it (its `seq`), in microseconds since the epoch. */
  timestampMicros: bigint;
}

/** Why the server's record gave no path to dial. */
export class RecordLookupError extends Error {
  /** A short name for the reason; "unreachable": the pkarr relay did not answer. */
  readonly reason: "no-record" | "no-path" | "no-usable-path" | "unreachable";
  /** The server looked up. */
  readonly serverId: EndpointId;
  /** Where it was looked up: "at https://…/pkarr", "in the DHT", or both joined by "and". */
  readonly where: string;

  /** The error for `reason`, with a message that says what to check. */
  constructor(
    reason: "no-record" | "no-path" | "no-usable-path" | "unreachable",
    serverId: EndpointId,
    where: string,
    options?: ErrorOptions,
  ) {
    super(
      reason === "unreachable"
        ? `Cannot look ${serverId} up ${where}: ${lookupFailure(options?.cause)}`
        : reason === "no-record"
        ? `No discovery record for ${serverId} ${where}: is the server running and publishing there?`
        : reason === "no-path"
        ? `The discovery record of ${serverId} ${where} names no relay or address`
        : `The discovery record of ${serverId} ${where} names no path this client may use`,
      options,
    );
    this.name = "RecordLookupError";
    this.reason = reason;
    this.serverId = serverId;
    this.where = where;
  }
}

/**
 * Connects to the server by every path, authenticates and requests the source.
 * Every attempt hears one abort signal, raised once one has won.
 * @throws {Error} the one path's own error when there was one path, else an
 * {@linkcode AllAttemptsFailedError}; a `SessionRefusedError` when the server refused.
 */
export async function connectToServer(
  target: ServerConnectTarget,
  events: ConnectEvents,
): Promise<ServerSession> {
  const dialTarget: DialTarget = { endpointId: target.serverId, alpn: ALPN };
  // How each winner was reached, by connection: its kind and its path's label.
  const reached = new WeakMap<PeerConnection, { kind: string; label: string }>();
  const attemptAt = (address: PathAddress): ConnectAttempt => ({
    label: dialerFor(address).describe(address),
    connect: async (signal) => {
      const { conn, label } = await dialPath(dialTarget, address, { signal });
      reached.set(conn, { kind: address.kind, label });
      return conn;
    },
  });
  const given = await target.addresses();
  const attempts = given.map(attemptAt);
  const lookup = target.lookup;
  let record: FoundRecord | undefined;
  const recordEvents: ConnectEvents = {
    ...events,
    onRecord: (where, found) => {
      record = { where, timestampMicros: found.timestampMicros };
      events.onRecord?.(where, found);
    },
  };
  if (lookup !== undefined) {
    const givenKeys = new Set(given.map(addressKey));
    attempts.push({
      label: `discovery ${lookupPlaces(lookup).join(" and ")}`,
      connect: async (signal) => {
        const { found, where } = await pathsInRecord(target.serverId, lookup, recordEvents, signal);
        const more = found.filter((address) => !givenKeys.has(addressKey(address)));
        if (more.length === 0) {
          throw new RecordLookupError("no-usable-path", target.serverId, where);
        }
        return await firstToConnect(more.map(attemptAt), signal);
      },
    });
  }
  const { conn } = await firstToConnect(attempts).catch((error) => {
    // One path: its own error, which the caller may know (a refusal, a wrong key).
    throw unwrapSingleFailure(error);
  });
  const { kind, label: pathLabel } = reached.get(conn)!;
  const where = isRelayedKind(kind) ? `through ${kind} ${pathLabel}` : `at ${pathLabel}`;
  events.onConnected?.(where);
  const session = await openClientSession(conn, credentialFor(target), target.source, {
    path: { kind, label: pathLabel },
    onPathChange: events.onPathChange,
  });
  return { session, where, relayUrl: kind === "relay" ? pathLabel : undefined, record };
}

/** The credential to present: a key's proofs are for the server dialed, whose key the handshake proved. */
function credentialFor(target: ServerConnectTarget) {
  const credential = target.credential;
  return credential instanceof Uint8Array
    ? credential
    : { clientKey: credential, serverId: target.serverId.bytes };
}

/** Where `lookup` looks: "at <url>", "in the DHT". */
function lookupPlaces(lookup: RecordLookup): string[] {
  const places = lookup.pkarrUrl === undefined ? [] : [`at ${lookup.pkarrUrl}`];
  if (lookup.dht) places.push("in the DHT");
  return places;
}

/**
 * The server's record from the first of the lookup's places that has one:
 * each is asked at once, and a place without it does not stop the others.
 * @throws {RecordLookupError} "no-record" when a place answered without one and
 *   none had it; "unreachable" when no place answered.
 */
async function findRecord(
  serverId: EndpointId,
  lookup: RecordLookup,
  signal: AbortSignal,
): Promise<{ record: PkarrRecord; where: string }> {
  const places: { where: string; find: () => Promise<PkarrRecord | undefined> }[] = [];
  const pkarrUrl = lookup.pkarrUrl;
  if (pkarrUrl !== undefined) {
    places.push({
      where: `at ${pkarrUrl}`,
      find: () =>
        (pkarrUrl.startsWith("dns:")
          ? resolveRecordByDns(serverId, { server: pkarrUrl, signal })
          : resolveRecord(serverId, {
            relayUrl: pkarrUrl,
            accessToken: lookup.accessToken,
            signal,
          })).catch((error) => {
            // Anything else is a fault of ours, not of the relay: let it through.
            if (!(error instanceof PkarrRelayError)) throw error;
            throw new RecordLookupError("unreachable", serverId, `at ${pkarrUrl}`, {
              cause: error,
            });
          }),
    });
  }
  const dht = lookup.dht;
  if (dht) {
    places.push({
      where: "in the DHT",
      find: () =>
        resolveRecordFromDht(dht, serverId, signal).catch((error) => {
          if (signal.aborted) throw error;
          throw new RecordLookupError("unreachable", serverId, "in the DHT", { cause: error });
        }),
    });
  }
  const answered: string[] = [];
  const failures: RecordLookupError[] = [];
  return await new Promise((resolve, reject) => {
    let pending = places.length;
    const settle = () => {
      if (--pending > 0) return;
      if (answered.length > 0) {
        reject(new RecordLookupError("no-record", serverId, answered.join(" and ")));
      } else if (failures.length === 1) {
        reject(failures[0]);
      } else {
        reject(
          new RecordLookupError("unreachable", serverId, lookupPlaces(lookup).join(" or "), {
            cause: new Error(failures.map((failure) => lookupFailure(failure.cause)).join("; ")),
          }),
        );
      }
    };
    for (const place of places) {
      place.find().then((record) => {
        if (record) return resolve({ record, where: place.where });
        answered.push(place.where);
        settle();
      }, (error) => {
        if (!(error instanceof RecordLookupError)) return reject(error);
        failures.push(error);
        settle();
      });
    }
  });
}

/**
 * The paths the server's signed record names that this client may take, and
 * where the record was found.
 * @throws {RecordLookupError} when there is no record or it names no path.
 */
async function pathsInRecord(
  serverId: EndpointId,
  lookup: RecordLookup,
  events: ConnectEvents,
  signal: AbortSignal,
): Promise<{ found: PathAddress[]; where: string }> {
  const log = events.log;
  const { record, where } = await findRecord(serverId, lookup, signal);
  events.onRecord?.(where, record);
  log.debug(
    `discovery (${where}): relays ${record.relayUrls.join(", ") || "none"}; addresses ${
      record.addrs.map((a) => formatHostPort(a.hostname, a.port)).join(", ") || "none"
    }`,
  );
  if (record.relayUrls.length === 0 && record.addrs.length === 0) {
    throw new RecordLookupError("no-path", serverId, where);
  }
  const avoid = lookup.avoidAddress ?? (() => false);
  const addrs = lookup.directs ? record.addrs.filter((a) => !avoid(a.hostname)) : [];
  const found: PathAddress[] = [];
  // Each address races the others: a server behind NAT publishes its LAN
  // addresses beside its mapped one, and a LAN address dialed from elsewhere
  // answers nothing until the handshake times out (6 s), which tried in turn
  // would hold up the address that works.
  for (const addr of addrs) {
    const direct: DirectAddress = { kind: "direct", addrs: [addr] };
    found.push(direct);
  }
  if (lookup.relays) {
    for (const url of record.relayUrls) {
      const relay: RelayAddress = {
        kind: "relay",
        url,
        accessToken: lookup.relayAccessToken?.(url),
        log: { debug: (line: string) => log.debug(line) },
      };
      found.push(relay);
    }
  }
  return { found, where };
}

/**
 * What makes two addresses the same place to dial: their fields, less how to
 * talk to it (tokens, logs).
 */
function addressKey(address: PathAddress): string {
  return JSON.stringify(
    address,
    (key, value) => key === "accessToken" || key === "log" ? undefined : value,
  );
}

/** The error of the one path there was, else the summary of all. */
function unwrapSingleFailure(error: unknown): unknown {
  return error instanceof AllAttemptsFailedError && error.failures.length === 1
    ? unwrapSingleFailure(error.failures[0].error)
    : error;
}

/** Why a lookup failed, without the record URL its error repeats (the message names the relay). */
function lookupFailure(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.replace(/^Cannot resolve \S+: /, "");
}
