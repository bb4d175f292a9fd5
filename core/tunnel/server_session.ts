/**
 * The server's side of one client connection: authentication, the request,
 * then the service of the request's kind. Independent of how the connection
 * was made and of what the service is.
 * @module
 */
import {
  type AuthorizedKey,
  type AuthorizedKeys,
  clientPublicKeyText,
  KeyChallenge,
} from "../auth/mod.ts";
import { AdmissionLimit, CloseCode, deadline, type PeerConnection } from "../transport/mod.ts";
import type { AllowList } from "./allow_list.ts";
import { type Dialer, systemDialer } from "./dialer.ts";
import { addressGroup } from "../net/mod.ts";
import { FramedStream } from "./framed_stream.ts";
import { formatBytes, type TunnelLog } from "./log.ts";
import { AuthStatus } from "./messages.ts";
import { RepeatedLines } from "../log/mod.ts";
import { type Resolver, systemResolver } from "./resolver.ts";
import {
  type ServerService,
  type ServerServices,
  type ServiceDecision,
  serviceKindOf,
} from "./service.ts";
import { fairShare, SessionLimiter } from "./session_limiter.ts";
import { describePath, SessionPaths } from "./session_paths.ts";
import type { SessionRegistry } from "./session_registry.ts";
import { SessionStats } from "./session_stats.ts";
import { parseSource } from "./source.ts";
import { formatHostPort } from "./source.ts";
import { MAX_PROCESS_TCP_STREAMS, tcpService } from "./tcp_service.ts";
import { MAX_PROCESS_UDP_FLOWS, udpService } from "./udp_service.ts";

/**
 * A client that sends no valid credential within this time is disconnected. An
 * honest client sends it right after the handshake: one round trip.
 */
export const AUTH_TIMEOUT_MS = 5_000;
/** How long an authenticated client has to open its control stream and send its request. */
export const REQUEST_TIMEOUT_MS = 5_000;
/**
 * Connections not yet authenticated, at once: each lives at most
 * {@linkcode AUTH_TIMEOUT_MS}, so 128 lets a crowd of honest clients in while a
 * flood costs little.
 */
export const MAX_UNAUTHENTICATED = 128;
/** Connections not yet authenticated from one IP address (a NAT shares one). */
export const MAX_UNAUTHENTICATED_PER_ADDRESS = 16;
/**
 * The smallest share of a process-wide pool one client (a token from one
 * address) may hold; otherwise a quarter of the pool (see {@linkcode fairShare}).
 * It matters for sessions only: a quarter of the 4,096 TCP connections or UDP
 * flows is far above it. Four sessions let one person run a few tunnels at once.
 */
export const MIN_CLIENT_SHARE = 4;
/** How long a refused connection stays open so the refusal reaches the client. */
const REFUSAL_LINGER_MS = 1_000;

/** Limits shared by every session of one server process. */
export interface ServerLimits {
  /** Connections not yet authenticated, in total and per address. */
  unauthenticated: AdmissionLimit;
  /** UDP flows of all sessions; a quarter for one client. */
  processUdpFlows: SessionLimiter;
  /** Forwarded TCP connections of all sessions; a quarter for one client. */
  processTcpStreams: SessionLimiter;
  /** Summarises alike lines of all sessions; close it when the server stops. */
  warnings: RepeatedLines;
}

/** The process-wide limits at their defaults, with alike lines summarised into `log.info`. */
export function serverLimits(log: TunnelLog): ServerLimits {
  return {
    unauthenticated: new AdmissionLimit({
      total: MAX_UNAUTHENTICATED,
      perAddress: MAX_UNAUTHENTICATED_PER_ADDRESS,
    }),
    processUdpFlows: sharedPool(MAX_PROCESS_UDP_FLOWS),
    processTcpStreams: sharedPool(MAX_PROCESS_TCP_STREAMS),
    warnings: new RepeatedLines((line) => log.info(line)),
  };
}

/**
 * A process-wide pool of `max` slots of which one client (a token from one
 * address) may hold its fair share: a quarter, at least {@linkcode MIN_CLIENT_SHARE}.
 * @example
 * ```ts
 * const sessions = sharedPool(100); // a client may hold 25
 * ```
 */
export function sharedPool(max: number): SessionLimiter {
  return new SessionLimiter(max, { share: fairShare(max, MIN_CLIENT_SHARE) });
}

/** What {@linkcode forwardingServices} needs. */
export interface ForwardingOptions {
  /** Networks TCP sources may be in (none: TCP refused). */
  allowedTcp: AllowList;
  /** Networks UDP sources may be in (none: UDP refused). */
  allowedUdp: AllowList;
  /** Resolves requested host names. Default: the system resolver. */
  resolve?: Resolver;
  /** How the server reaches sources. Default: the real network. */
  dialer?: Dialer;
  /** TCP connections of the whole process. Default: 4,096. */
  processTcpStreams?: SessionLimiter;
  /** UDP flows of the whole process. Default: 4,096. */
  processUdpFlows?: SessionLimiter;
  /** How long a TCP stripe waits for its connection to open. Default: 10 s. */
  stripeWaitMs?: number;
}

/** The port-forwarding services, `tcp` and `udp`, for {@linkcode ServerSessionOptions.services}. */
export function forwardingServices(options: ForwardingOptions): ServerServices {
  const resolve = options.resolve ?? systemResolver;
  const dialer = options.dialer ?? systemDialer;
  return {
    tcp: tcpService({
      allowed: options.allowedTcp,
      resolve,
      dialer,
      processStreams: options.processTcpStreams ?? new SessionLimiter(MAX_PROCESS_TCP_STREAMS),
      stripeWaitMs: options.stripeWaitMs,
    }),
    udp: udpService({
      allowed: options.allowedUdp,
      resolve,
      dialer,
      processFlows: options.processUdpFlows ?? new SessionLimiter(MAX_PROCESS_UDP_FLOWS),
    }),
  };
}

/** The client keys a server accepts, and its own key, which their proofs are bound to. */
export interface ClientKeyAuth {
  /** The accepted keys (`--authorized-keys`). */
  keys: AuthorizedKeys;
  /** The server's public key (its EndpointId's 32 bytes). */
  serverId: Uint8Array;
}

/**
 * What a server says to a client key it does not accept: the same for a key
 * not listed and for a signature that does not answer the challenge.
 */
export const CLIENT_KEY_REFUSED = "client key not authorized";

/** What a server says to a client key when it accepts none. */
export const CLIENT_KEYS_NOT_ACCEPTED = "this server accepts no client keys (only tokens)";

/** How a session's client is named in logs and the status view, by the key it proved. */
export function describeClientKey(entry: AuthorizedKey): string {
  // JSON quoting: a comment is the operator's text, but never a raw control character in a log.
  return entry.comment === "" ? `key ${entry.key}` : `key ${JSON.stringify(entry.comment)}`;
}

/** What a server session needs to decide and to act. */
export interface ServerSessionOptions {
  /** Checks a client's bearer credential, a token or a session secret (in constant time). */
  authenticate(credential: Uint8Array): boolean;
  /** Client keys accepted beside the credentials (none: a key is refused). */
  clientKeys?: ClientKeyAuth;
  /** Handlers by request kind; a request of another kind is refused. */
  services: ServerServices;
  /** Authenticated sessions of the process (`--max-sessions`). */
  sessions: SessionLimiter;
  /** Where status lines go. */
  log: TunnelLog;
  /** Label for log lines (e.g. a session number). */
  label: string;
  /** Time to authenticate; default {@linkcode AUTH_TIMEOUT_MS}. */
  authTimeoutMs?: number;
  /**
   * Connections not yet authenticated, across the process (in total and per
   * address); a connection past the limit is closed at once. None when absent.
   */
  unauthenticated?: AdmissionLimit;
  /** Summarises alike lines across sessions (refusals, limits). One per session when absent. */
  warnings?: RepeatedLines;
  /** Told each accepted session's paths, e.g. to answer its hole-punching offers. */
  onPaths?(paths: SessionPaths, label: string): void;
  /** Where running sessions are listed for a status view. */
  registry?: SessionRegistry;
  /**
   * Who is at `address` in people's words, when the address alone would
   * mislead (a relayed client arrives from a local shim socket). Default: the
   * address.
   */
  describePeer?(address: { hostname: string; port: number }): string | undefined;
}

/**
 * Serves one connection until it ends. Never throws: a misbehaving client only
 * ever loses its own connection.
 */
export async function serveConnection(
  conn: PeerConnection,
  options: ServerSessionOptions,
): Promise<void> {
  const { log, label } = options;
  const warnings = options.warnings ?? new RepeatedLines((line) => log.info(line));
  const peerHost = conn.remoteAddr.hostname;
  const peer = options.describePeer?.(conn.remoteAddr) ??
    formatHostPort(peerHost, conn.remoteAddr.port);
  // `detail` goes in the line but not the kind, so alike refusals stay one kind.
  const refused = (why: string, detail?: string) =>
    warnings.report(
      `refused: ${why}`,
      `[${label}] refused ${peer}: ${why}${detail === undefined ? "" : ` (${detail})`}`,
    );

  const admission = options.unauthenticated?.tryAdmit(peerHost);
  if (admission) {
    const why = admission === "total"
      ? "too many unauthenticated connections"
      : "too many unauthenticated connections from one address";
    refused(why);
    conn.close({ code: CloseCode.ServerUnavailable, reason: `${why}; try again later` });
    if (!options.warnings) warnings.close();
    return;
  }
  let admitted = options.unauthenticated !== undefined;
  const leaveAdmission = () => {
    if (admitted) options.unauthenticated!.release(peerHost);
    admitted = false;
  };

  // Set once the client holds a session slot (counted against its share).
  let client: string | undefined;
  let paths: SessionPaths | undefined;
  let unregister: (() => void) | undefined;
  const expiry = { expired: false };
  // Set while the service holds a reservation for this session that serve() has not taken over.
  let unserved: (() => void) | undefined;
  try {
    const auth = await deadline(
      authenticate(conn, options, expiry),
      options.authTimeoutMs ?? AUTH_TIMEOUT_MS,
      "no valid authentication in time",
    );
    leaveAdmission();
    if (typeof auth === "string" || "refused" in auth) {
      const why = typeof auth === "string" ? auth : auth.refused;
      refused(why, typeof auth === "string" ? undefined : auth.detail);
      conn.close({ code: CloseCode.AuthFailed, reason: why });
      return;
    }
    client = auth.client;
    const keyName = auth.key && describeClientKey(auth.key);
    log.info(`[${label}] client connected from ${peer}${keyName ? ` ${keyName}` : ""}`);

    // The stream and the request share one deadline: an authenticated peer that
    // never opens its control stream must not keep its session slot.
    const { control, request } = await deadline(
      (async () => {
        const control = new FramedStream(await nextStream(conn, "source request"));
        return { control, request: await control.read() };
      })(),
      REQUEST_TIMEOUT_MS,
      "no source request in time",
    );
    if (request?.type !== "source-request") throw new Error("expected a source request");
    const { decision, service } = await checkRequest(options.services, request.source);
    if (decision.accepted && service?.release) {
      const release = service.release.bind(service);
      unserved = () => release(decision.grant);
    }
    if (!decision.accepted) {
      log.info(`[${label}] refused source ${request.source}: ${decision.reason}`);
      await control.write({ type: "source-response", accepted: false, reason: decision.reason });
      await control.closeWrite();
      // Give the answer time to arrive, but never let a refused client keep its
      // session slot by staying connected (keep-alives would hold it forever).
      await Promise.race([conn.closed, new Promise((r) => setTimeout(r, REFUSAL_LINGER_MS))]);
      return;
    }
    await control.write({ type: "source-response", accepted: true, reason: "" });
    // The path stream comes next, before any stream of the service.
    const pathStream = await deadline(
      (async () => new FramedStream(await nextStream(conn, "path stream")))(),
      REQUEST_TIMEOUT_MS,
      "no path stream in time",
    );
    const hello = await deadline(pathStream.read(), REQUEST_TIMEOUT_MS, "no path hello in time");
    if (hello?.type !== "path-hello") throw new Error("expected a path hello");
    paths = new SessionPaths(conn, pathStream, { kind: hello.kind, label: hello.label }, {
      onPathChange: (path) => log.debug(`[${label}] path: ${describePath(path)}`),
    });
    options.onPaths?.(paths, label);
    const stats = new SessionStats();
    unregister = options.registry?.add({
      label,
      peer,
      clientKey: keyName,
      source: decision.source ?? request.source,
      paths,
      stats,
    });
    log.info(`[${label}] forwarding to ${decision.description}`);
    unserved = undefined;
    const totals = await service!.serve(decision.grant, {
      conn: paths.conn,
      control,
      log,
      label,
      client,
      warnings,
      stats,
    });
    log.info(
      `[${label}] session closed (${formatBytes(totals.sent)} to client, ${
        formatBytes(totals.received)
      } from client)`,
    );
  } catch (error) {
    expiry.expired = true;
    const reason = (error as Error).message;
    if (client !== undefined) log.info(`[${label}] ${peer}: ${reason}`);
    else refused(reason);
    const code = client !== undefined ? CloseCode.ProtocolViolation : CloseCode.AuthFailed;
    (paths?.conn ?? conn).close({ code, reason: reason.slice(0, 200) });
  } finally {
    unserved?.();
    leaveAdmission();
    unregister?.();
    paths?.close();
    paths?.conn.close();
    if (client !== undefined) options.sessions.release(client);
    conn.close();
    if (!options.warnings) warnings.close();
  }
}

async function nextStream(conn: PeerConnection, what: string) {
  const stream = await conn.acceptStream();
  if (!stream) throw new Error(`connection closed before the ${what}`);
  return stream;
}

/**
 * Runs the auth exchange: a bearer credential, or a client key's proof over a
 * fresh challenge. Who the client is (and the key it proved), or why it is refused.
 */
async function authenticate(
  conn: PeerConnection,
  options: ServerSessionOptions,
  expiry: { expired: boolean },
): Promise<string | { refused: string; detail: string } | { client: string; key?: AuthorizedKey }> {
  const stream = new FramedStream(await nextStream(conn, "authentication"));
  const message = await stream.read();
  const refuse = async (status: AuthStatus, reason: string) => {
    await stream.write({ type: "auth-response", status, reason });
    await stream.closeWrite();
    // Let the response reach the client before the connection is closed.
    await Promise.race([conn.closed, new Promise((r) => setTimeout(r, REFUSAL_LINGER_MS))]);
    return reason;
  };
  let client: string;
  let key: AuthorizedKey | undefined;
  if (message?.type === "auth-request") {
    if (!options.authenticate(message.credential)) {
      return await refuse(AuthStatus.InvalidCredential, "invalid authentication token");
    }
    client = clientKey(message.credential, conn.remoteAddr.hostname);
  } else if (message?.type === "auth-key-request") {
    const keys = options.clientKeys;
    if (!keys) return await refuse(AuthStatus.InvalidCredential, CLIENT_KEYS_NOT_ACCEPTED);
    // Every request gets a challenge, listed key or not: the answer alone decides.
    const challenge = new KeyChallenge(message.publicKey, keys.serverId);
    await stream.write({ type: "auth-challenge", nonce: challenge.nonce });
    const proof = await stream.read();
    if (proof?.type !== "auth-key-proof") return "expected a key proof after the challenge";
    key = challenge.verify(proof.signature, keys.keys);
    if (!key) {
      // The key (public) in the log, so an operator can tell whose it was and list it.
      const detail = `key ${clientPublicKeyText(message.publicKey)}`;
      return { refused: await refuse(AuthStatus.InvalidCredential, CLIENT_KEY_REFUSED), detail };
    }
    client = `${addressGroup(conn.remoteAddr.hostname)} ${key.key}`;
  } else {
    return "first message was not authentication";
  }
  // A client that answers after the deadline must not take a slot nobody frees.
  if (expiry.expired) return "authentication came too late";
  if (!options.sessions.tryAcquire(client)) {
    const full = options.sessions.active >= options.sessions.max;
    const holder = key ? "key" : "token";
    return await refuse(
      AuthStatus.ServerFull,
      full
        ? `server is at its session limit (${options.sessions.max}); try again later`
        : `this client (its ${holder} from its address) has its share of the server's sessions (${options.sessions.share} of ${options.sessions.max}); close one or try again later`,
    );
  }
  try {
    await stream.write({ type: "auth-response", status: AuthStatus.Ok, reason: "" });
    await stream.closeWrite();
  } catch (error) {
    options.sessions.release(client);
    throw error;
  }
  // The deadline passed while the answer was on its way: no session starts to free the slot.
  if (expiry.expired) {
    options.sessions.release(client);
    return "authentication came too late";
  }
  return { client, key };
}

/**
 * Who a client is for the pools' shares: the token it authenticated with and
 * the address it comes from (an IPv6 address by its /64, which one host
 * commonly holds whole). A token shared by many people still gives each
 * address its own share; one holder cannot take more from one address.
 */
function clientKey(credential: Uint8Array, address: string): string {
  return `${addressGroup(address)} ${new TextDecoder().decode(credential)}`;
}

/**
 * Checks a request with the handler of its kind, as a session does. Never
 * throws: a request no handler serves is refused with the reason.
 */
export async function checkRequest(
  services: ServerServices,
  request: string,
  // deno-lint-ignore no-explicit-any
): Promise<{ decision: ServiceDecision<any>; service?: ServerService<any> }> {
  const kind = serviceKindOf(request);
  const service = kind === undefined ? undefined : services[kind];
  if (!service) {
    return { decision: { accepted: false, reason: unknownKindReason(request, kind) } };
  }
  return { decision: await service.check(request), service };
}

/** Why a request of a kind no handler serves is refused. */
function unknownKindReason(request: string, kind: string | undefined): string {
  try {
    // For forwarding requests, the parser's own message says what is wrong.
    parseSource(request);
  } catch (error) {
    return (error as Error).message;
  }
  return `server does not offer ${kind} services`;
}
