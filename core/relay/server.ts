/**
 * The relay server: iroh's relay protocol over WebSocket (`/relay`), plus the
 * plain HTTP routes a relay answers. Plain requests go through one function
 * from request to response; a WebSocket upgrade hands over its raw connection,
 * on which the relay reads frames itself (see `_websocket_server.ts` for why).
 * `serveRelay` binds both to a port. Each client is its own state machine; a
 * misbehaving one is closed without touching others.
 * @module
 */
import { BearerTokenSet } from "../auth/mod.ts";
import type { EndpointId } from "../identity/mod.ts";
import {
  decodeRelayFrame,
  encodeRelayFrame,
  MAX_PACKET_SIZE,
  RELAY_SUBPROTOCOLS,
  relayDatagramInPlace,
  type RelayFrame,
  RelayFrameError,
  type RelayProtocolVersion,
  relayProtocolVersion,
} from "./frames.ts";
import { newChallenge, verifyClientAuth } from "./handshake.ts";
import {
  acceptWebSocket,
  isWebSocketKey,
  refuseUpgrade,
  type ServerWebSocket,
  type UpgradedSocket,
} from "./_websocket_server.ts";
import { type DropReason, RelayMetrics } from "./metrics.ts";
import { keyString, RelayRegistry } from "./registry.ts";
import { TokenBucket } from "./token_bucket.ts";
import {
  type ClientSendBudget,
  DEFAULT_SEND_BUDGET,
  SendBudget,
  type SendBudgetLimits,
} from "./send_budget.ts";
import {
  DEFAULT_RECEIVE_BUDGET,
  ReceiveBudget,
  type ReceiveBudgetLimits,
} from "./receive_budget.ts";
import { addressGroup } from "../net/mod.ts";
import { AdmissionLimit } from "../transport/mod.ts";
import { RepeatedLines } from "../log/mod.ts";
import { captivePortalResponse, indexResponse, robotsResponse } from "./http_pages.ts";

/**
 * WebSocket close codes the relay uses (browsers' and Deno's WebSockets accept
 * only 1000 and 3000-4999 from applications).
 */
const CLOSE_PROTOCOL_ERROR = 4002;
/** Closed for policy: refused, not admitted, or the server going away. */
const CLOSE_POLICY = 4008;
/** RFC 6455's "internal error": the relay failed, not the client. */
const CLOSE_INTERNAL_ERROR = 1011;

/** Authenticated clients at once by default; each holds a WebSocket and its send buffer. */
export const DEFAULT_MAX_CLIENTS = 10_000;
/**
 * Connections that have not authenticated yet, at once, from everywhere and
 * from one IPv4 address or IPv6 /64: counted apart from the clients, so a flood
 * of upgrades that never authenticate cannot take the places of real clients,
 * and one address cannot take every unauthenticated place. A handshake is one
 * round trip, so a place is held for well under a second by a real client.
 */
export const DEFAULT_MAX_UNAUTHENTICATED = 1_024;
/** See {@linkcode DEFAULT_MAX_UNAUTHENTICATED}. */
export const DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS = 32;
/**
 * TCP connections not handed to the relay protocol (plain HTTP requests, and
 * upgrades whose request has not arrived yet), at once: in all, and from one
 * address as above. Each is closed within 10-11 s without a complete request
 * (`serveRelay`), and within 5 s of idleness after one. Per address this is
 * far above what a crowd behind one NAT probing `/ping` and publishing records
 * holds, and caps what one address can make the relay hold before a byte of
 * a request.
 */
export const DEFAULT_MAX_CONNECTIONS = 4_096;
/** See {@linkcode DEFAULT_MAX_CONNECTIONS}. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
/**
 * Largest WebSocket message read before the handshake: a ClientAuth frame is
 * ~100 bytes, and the frame parser allocates a message's declared size when
 * its header arrives (1 MiB each across the unauthenticated places would be 1 GiB).
 */
const MAX_HANDSHAKE_MESSAGE = 4 << 10;
/**
 * Largest WebSocket message read from an authenticated client: a relay frame
 * after the handshake has a body of at most 64 KiB (iroh refuses to send a
 * longer one, and `decodeRelayFrame` refuses it) after its type, a QUIC varint
 * of at most 8 bytes. A longer message could only be closed as a protocol
 * error once whole, so it is refused from its header instead of held up to
 * iroh's 1 MiB WebSocket limit: no valid message is refused.
 */
const MAX_CLIENT_MESSAGE = MAX_PACKET_SIZE + 8;
/** A client that has not completed the handshake after this long is closed. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * The server pings every client this often (iroh: 15 s plus jitter), whatever
 * it sends: a client's own traffic says nothing about whether it reads ours.
 */
const PING_INTERVAL_MS = 15_000;
/** Random extra wait before each ping, so a crowd of clients is not pinged at once. */
const PING_JITTER_MS = 5_000;
/** A ping not answered within this long means the client is gone (or not reading). */
const PONG_TIMEOUT_MS = 5_000;

/** Where the relay reports connects, disconnects and refusals. */
export interface RelayLog {
  /** Status lines shown by default. */
  info(message: string): void;
  /** Detail for `-v` (one line per client connect and disconnect). */
  debug(message: string): void;
}

/** What a relay server needs. */
export interface RelayServerOptions {
  /** Admit only clients presenting one of these (`Authorization: Bearer` or `?token=`). */
  accessTokens?: string[];
  /** Admit only these endpoints. */
  allowedEndpoints?: EndpointId[];
  /** Clients at once. Default {@linkcode DEFAULT_MAX_CLIENTS}. */
  maxClients?: number;
  /** Per-client receive rate in bytes per second; datagrams over it are dropped. */
  rateLimitBytesPerSecond?: number;
  /** Serves `/pkarr/*` (discovery records), when given; `info` names the peer's address. */
  pkarr?: (request: Request, info?: RelayRequestInfo) => Promise<Response>;
  /** Serves `/dns-query` (DNS over HTTPS for the records), when given. */
  dnsQuery?: (request: Request, info?: RelayRequestInfo) => Promise<Response>;
  /** Where status lines go. */
  log?: RelayLog;
  /** Limits other than `maxClients`, for tests. */
  limits?: {
    /** Default {@linkcode DEFAULT_MAX_UNAUTHENTICATED}. */
    unauthenticated?: number;
    /** Default {@linkcode DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS}. */
    unauthenticatedPerAddress?: number;
    /** Default {@linkcode DEFAULT_MAX_CONNECTIONS}. */
    connections?: number;
    /** Default {@linkcode DEFAULT_MAX_CONNECTIONS_PER_ADDRESS}. */
    connectionsPerAddress?: number;
    /** Default `DEFAULT_SEND_BUDGET`. */
    sendBudget?: Partial<SendBudgetLimits>;
    /** Default `DEFAULT_RECEIVE_BUDGET`. */
    receiveBudget?: Partial<ReceiveBudgetLimits>;
  };
  /** Timings, for tests. */
  timing?: {
    handshakeMs?: number;
    pingIntervalMs?: number;
    pingJitterMs?: number;
    pongTimeoutMs?: number;
  };
}

/** Who sent a plain request (the shape of `Deno.serve`'s handler info). */
export interface RelayRequestInfo {
  /** The peer's address. */
  remoteAddr?: { hostname: string };
}

/** A relay server, not yet bound to a socket (`serveRelay` binds it). */
export interface RelayServer {
  /**
   * Admits a new TCP connection from `remoteAddress` before anything is read
   * from it, within {@linkcode DEFAULT_MAX_CONNECTIONS} and its per-address cap.
   * @returns the function that gives its place back (call it when the
   * connection is upgraded or closed; more calls do nothing), or `undefined`
   * when it is refused: the caller closes it.
   */
  admitConnection(remoteAddress: string): (() => void) | undefined;
  /** Answers one plain HTTP request (not an upgrade); `info` names the peer. */
  handle(request: Request, info?: RelayRequestInfo): Response | Promise<Response>;
  /**
   * Takes over a connection whose request asked for a WebSocket upgrade: answers
   * 101 and serves the relay protocol on it, or answers an HTTP error and ends it.
   * @param request The upgrade request (its body is not read).
   * @param socket The raw connection, e.g. from `node:http`'s `upgrade` event.
   * @param head Bytes that arrived after the request head.
   */
  upgrade(request: Request, socket: UpgradedSocket, head: Uint8Array): void;
  /** Whether the endpoint with this 32-byte key is connected (its discovery record is kept). */
  isConnected(endpoint: Uint8Array): boolean;
  /** Its counters. */
  readonly metrics: RelayMetrics;
  /** Disconnects every client (and prints any summary of refusals still held). */
  close(): void;
}

const quietLog: RelayLog = { info() {}, debug() {} };

/**
 * Creates a relay server.
 *
 * @example
 * ```ts
 * import { serveRelay } from "./serve_relay.ts";
 * const relay = createRelayServer({});
 * const listener = await serveRelay(relay, { hostname: "127.0.0.1", port: 3340 });
 * ```
 */
export function createRelayServer(options: RelayServerOptions = {}): RelayServer {
  const metrics = new RelayMetrics();
  const registry = new RelayRegistry<RelayClient>();
  const clients = new Set<RelayClient>();
  const log = options.log ?? quietLog;
  const maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
  const tokens = new BearerTokenSet(options.accessTokens);
  const allowed = options.allowedEndpoints
    ? new Set(options.allowedEndpoints.map((id) => keyString(id.bytes)))
    : undefined;
  const timing = {
    handshakeMs: options.timing?.handshakeMs ?? HANDSHAKE_TIMEOUT_MS,
    pingIntervalMs: options.timing?.pingIntervalMs ?? PING_INTERVAL_MS,
    pingJitterMs: options.timing?.pingJitterMs ?? PING_JITTER_MS,
    pongTimeoutMs: options.timing?.pongTimeoutMs ?? PONG_TIMEOUT_MS,
  };
  const unauthenticated = new AdmissionLimit({
    total: options.limits?.unauthenticated ?? DEFAULT_MAX_UNAUTHENTICATED,
    perAddress: options.limits?.unauthenticatedPerAddress ??
      DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS,
  });
  const connections = new AdmissionLimit({
    total: options.limits?.connections ?? DEFAULT_MAX_CONNECTIONS,
    perAddress: options.limits?.connectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  });
  const sendBudget = new SendBudget({ ...DEFAULT_SEND_BUDGET, ...options.limits?.sendBudget });
  const receiveBudget = new ReceiveBudget({
    ...DEFAULT_RECEIVE_BUDGET,
    ...options.limits?.receiveBudget,
  });
  // Hostile clients come in floods: one line per kind, then a count every 10 s.
  const lines = new RepeatedLines((line) => log.info(line));
  const shared: RelayShared = {
    registry,
    metrics,
    log,
    lines,
    timing,
    rateLimit: options.rateLimitBytesPerSecond,
    maxClients,
    admits: (key) => !allowed || allowed.has(key),
    clients,
    unauthenticated,
    answerBudget: sendBudget.limits.answersPerClient,
    receiveTotal: receiveBudget.limits.total,
  };

  const upgrade = (request: Request, socket: UpgradedSocket, head: Uint8Array): void => {
    if (new URL(request.url).pathname !== "/relay") {
      return refuseUpgrade(socket, 404, "Not found");
    }
    const key = request.headers.get("sec-websocket-key") ?? "";
    if (
      request.method !== "GET" || request.headers.get("upgrade")?.toLowerCase() !== "websocket" ||
      request.headers.get("sec-websocket-version") !== "13" || !isWebSocketKey(key)
    ) {
      return refuseUpgrade(socket, 400, "Cannot relay: not a WebSocket (RFC 6455) upgrade");
    }
    const version = relayProtocolVersion(request.headers.get("sec-websocket-protocol") ?? "");
    if (!version) {
      return refuseUpgrade(
        socket,
        400,
        "Cannot relay: Sec-WebSocket-Protocol must offer iroh-relay-v2 or iroh-relay-v1",
      );
    }
    // Before any WebSocket is made: a flood of upgrades costs one short answer each.
    const address = addressGroup(socket.remoteAddress ?? "unknown");
    const over = unauthenticated.tryAdmit(address);
    if (over) {
      metrics.refusals.admission++;
      const limit = over === "total"
        ? `${unauthenticated.limits.total} in all`
        : `${unauthenticated.limits.perAddress} from ${address}`;
      lines.report(
        `admission-${over}`,
        `relay: refusing upgrades: too many connections not yet authenticated (${limit})`,
      );
      return refuseUpgrade(
        socket,
        503,
        `Cannot relay: too many connections ${
          over === "total" ? "" : "from your address "
        }are authenticating; retry shortly`,
      );
    }
    const refusal = metrics.clients >= maxClients
      ? CAPACITY_REFUSAL
      : tokens.required && !tokens.presentedBy(request)
      ? "a valid access token is required (Authorization: Bearer TOKEN)"
      : undefined;
    const account = sendBudget.client();
    // No WebSocket-level pings: our own (relay frames) find dead clients.
    const websocket = acceptWebSocket(socket, {
      key,
      protocol: RELAY_SUBPROTOCOLS[version],
      head,
      maxMessage: MAX_HANDSHAKE_MESSAGE,
      account,
      receiveAccount: receiveBudget.client(),
    });
    metrics.accepted++;
    // It adds itself to `clients`, takes itself out when it closes, and gives
    // its unauthenticated place back once it authenticates or closes.
    new RelayClient(websocket, version, shared, { address, account, refusal });
  };

  const admitConnection = (remoteAddress: string): (() => void) | undefined => {
    const address = addressGroup(remoteAddress);
    const over = connections.tryAdmit(address);
    if (over) {
      metrics.refusals.admission++;
      const limit = over === "total"
        ? `${connections.limits.total} in all`
        : `${connections.limits.perAddress} from ${address}`;
      lines.report(
        `connections-${over}`,
        `relay: refusing connections: too many without a request handled (${limit})`,
      );
      return undefined;
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      connections.release(address);
    };
  };

  return {
    metrics,
    admitConnection,
    upgrade,
    isConnected: (endpoint) => registry.active(keyString(endpoint)) !== undefined,
    handle(request, info) {
      const url = new URL(request.url);
      switch (url.pathname) {
        case "/relay":
          return text(400, "Cannot relay: /relay needs a WebSocket upgrade");
        case "/ping":
          return new Response(null, {
            status: 200,
            headers: { "access-control-allow-origin": "*" },
          });
        case "/healthz":
          return Response.json({ status: "ok", clients: metrics.clients });
        case "/generate_204":
          return captivePortalResponse(request);
        case "/robots.txt":
          return robotsResponse();
        case "/metrics":
          return new Response(metrics.toPrometheus(), {
            headers: { "content-type": "text/plain; version=0.0.4" },
          });
        case "/":
        case "/index.html":
          return indexResponse();
      }
      if (url.pathname.startsWith("/pkarr/") && options.pkarr) return options.pkarr(request, info);
      if (url.pathname === "/dns-query" && options.dnsQuery) return options.dnsQuery(request, info);
      return text(404, "Not found");
    },
    close() {
      for (const client of [...clients]) client.close(CLOSE_POLICY, "relay shutting down");
      lines.close();
    },
  };
}

const CAPACITY_REFUSAL = "the relay is at its client limit; try another relay";

/** What every client of one server shares. */
interface RelayShared {
  registry: RelayRegistry<RelayClient>;
  metrics: RelayMetrics;
  log: RelayLog;
  lines: RepeatedLines;
  timing: {
    handshakeMs: number;
    pingIntervalMs: number;
    pingJitterMs: number;
    pongTimeoutMs: number;
  };
  rateLimit?: number;
  /** Authenticated clients at once. */
  maxClients: number;
  admits(key: string): boolean;
  clients: Set<RelayClient>;
  /** Places of connections not yet authenticated. */
  unauthenticated: AdmissionLimit;
  /** Bytes of answers a client may have waiting (for the log line). */
  answerBudget: number;
  /** Bytes held for messages still arriving, for all clients (for the log line). */
  receiveTotal: number;
}

/** How a {@linkcode RelayClient} was admitted. */
interface Admission {
  /** Its {@linkcode addressGroup}, holding an unauthenticated place until released. */
  address: string;
  /** Its bytes waiting to be sent. */
  account: ClientSendBudget;
  /** Why it is refused at once, if it is. */
  refusal?: string;
}

/** One WebSocket client: handshake, then forwarding, pings both ways. */
class RelayClient {
  key = "";
  #keyBytes = new Uint8Array(0);
  readonly #socket: ServerWebSocket;
  readonly #version: RelayProtocolVersion;
  readonly #shared: RelayShared;
  readonly #challenge = newChallenge();
  #state: "handshake" | "active" | "closed" = "handshake";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pendingPing: Uint8Array | undefined;
  readonly #account: ClientSendBudget;
  /** Its address group while it holds an unauthenticated place. */
  #unauthenticatedAt: string | undefined;
  /** The last destination's key bytes and registry key: a flow sends to one peer over and over. */
  #lastDestination = new Uint8Array(32);
  #lastDestinationKey = "";
  #bucket: TokenBucket | undefined;
  #rateLimitReported = false;

  constructor(
    socket: ServerWebSocket,
    version: RelayProtocolVersion,
    shared: RelayShared,
    { address, account, refusal }: Admission,
  ) {
    this.#socket = socket;
    this.#version = version;
    this.#shared = shared;
    this.#account = account;
    this.#unauthenticatedAt = address;
    // In the set before anything can close it (and take it out again).
    shared.clients.add(this);
    socket.start({
      onMessage: (message, text) => {
        try {
          this.#receive(message, text);
        } catch (error) {
          // A bug of ours costs this client its connection, not every client theirs.
          shared.log.info(`relay: closing a client on an internal error: ${error}`);
          this.close(CLOSE_INTERNAL_ERROR, "internal error");
        }
      },
      onProtocolError: (reason) => this.#violation(reason),
      onOverBudget: (what) => this.#overBudget(what),
      onOverReceiveBudget: (what) => this.#overReceiveBudget(what),
      onClose: () => this.#closed(),
    });
    // Bytes that came with the upgrade request may already have closed it.
    if (this.#state === "closed") return;
    if (refusal) {
      shared.metrics.refusals[refusal === CAPACITY_REFUSAL ? "capacity" : "access"]++;
      this.#send({ type: "server-denies-auth", reason: refusal });
      this.close(CLOSE_POLICY, refusal);
      return;
    }
    this.#send({ type: "server-challenge", challenge: this.#challenge });
    this.#arm(shared.timing.handshakeMs, () => {
      shared.metrics.refusals.timeout++;
      this.close(CLOSE_POLICY, "no authentication in time");
    });
  }

  /** Sends `frame` unless the client (or the relay) has too much waiting. */
  deliver(frame: RelayFrame): void {
    if (this.#state === "closed" || this.#account.datagramRefusal()) return;
    this.#send(frame);
  }

  /**
   * Sends an encoded relay-to-client message, as {@linkcode RelayClient.deliver}.
   * @returns why it was dropped, if it was.
   */
  deliverMessage(message: Uint8Array): DropReason | undefined {
    if (this.#state === "closed") return "no-peer";
    const refusal = this.#account.datagramRefusal();
    if (refusal) return refusal === "client-full" ? "queue-full" : "relay-full";
    this.#socket.send(message);
    return undefined;
  }

  close(code: number, reason: string): void {
    if (this.#state === "closed") return;
    this.#socket.close(code, reason);
    this.#closed();
  }

  #receive(message: Uint8Array, text: boolean): void {
    if (this.#state === "closed") return;
    // The message's size was checked (MAX_CLIENT_MESSAGE) before it was read.
    if (text) return this.#violation("text message");
    let frame: RelayFrame;
    try {
      frame = decodeRelayFrame(message, this.#version);
    } catch (error) {
      if (error instanceof RelayFrameError) return this.#violation(error.message);
      throw error;
    }
    if (this.#state === "handshake") return this.#authenticate(frame);
    switch (frame.type) {
      case "client-to-relay-datagram":
        return this.#forward(frame, message);
      case "ping":
        // Within the answer budget: a client that pings and never reads is closed.
        this.#socket.sendAnswer(
          encodeRelayFrame({ type: "pong", data: frame.data }, this.#version),
          "relay Pongs",
        );
        return;
      case "pong":
        // The answer to our ping: the next one in an interval (the timeout is off).
        if (this.#pendingPing && equalBytes(frame.data, this.#pendingPing)) {
          this.#pendingPing = undefined;
          this.#schedulePing();
        }
        return;
      default:
        return this.#violation(`unexpected ${frame.type} frame from a client`);
    }
  }

  #authenticate(frame: RelayFrame): void {
    const { metrics, registry, log } = this.#shared;
    if (frame.type !== "client-auth") {
      return this.#violation(`expected client-auth, got ${frame.type}`);
    }
    if (!verifyClientAuth(frame, this.#challenge)) {
      metrics.refusals.auth++;
      this.#send({ type: "server-denies-auth", reason: "the challenge signature is not valid" });
      return this.close(CLOSE_POLICY, "authentication failed");
    }
    if (metrics.clients >= this.#shared.maxClients) {
      metrics.refusals.capacity++;
      this.#send({ type: "server-denies-auth", reason: CAPACITY_REFUSAL });
      return this.close(CLOSE_POLICY, CAPACITY_REFUSAL);
    }
    const key = keyString(frame.publicKey);
    if (!this.#shared.admits(key)) {
      metrics.refusals.access++;
      this.#send({
        type: "server-denies-auth",
        reason: "this endpoint is not admitted to the relay",
      });
      return this.close(CLOSE_POLICY, "endpoint not admitted");
    }
    this.key = key;
    this.#keyBytes = frame.publicKey.slice();
    this.#state = "active";
    this.#leaveUnauthenticated();
    this.#socket.maxMessage = MAX_CLIENT_MESSAGE;
    if (this.#shared.rateLimit) {
      this.#bucket = new TokenBucket(
        this.#shared.rateLimit,
        Math.max(this.#shared.rateLimit, 2 * 65_536),
        performance.now(),
      );
    }
    metrics.clients++;
    this.#send({ type: "server-confirms-auth" });
    const displaced = registry.add(this);
    if (displaced && displaced.#version === 2) {
      displaced.deliver({ type: "status", status: "same-endpoint-elsewhere" });
    }
    log.debug(`relay: client ${shortKey(key)} connected (v${this.#version})`);
    this.#schedulePing();
  }

  #forward(
    frame: Extract<RelayFrame, { type: "client-to-relay-datagram" }>,
    message: Uint8Array,
  ): void {
    const { metrics, registry } = this.#shared;
    if (this.#bucket && !this.#bucket.take(frame.payload.length, performance.now())) {
      metrics.dropped["rate-limit"]++;
      if (!this.#rateLimitReported) {
        this.#rateLimitReported = true;
        metrics.rateLimitEvents++;
        if (this.#version === 2) this.#send({ type: "status", status: "rate-limited" });
      }
      return;
    }
    const destinationKey = this.#keyOf(frame.destination);
    const destination = registry.active(destinationKey);
    if (!destination) {
      metrics.dropped["no-peer"]++;
      return;
    }
    // The message is ours (a fresh buffer per WebSocket message): forward it
    // re-addressed in place rather than copied.
    const forwarded = relayDatagramInPlace(message, this.#keyBytes);
    const dropped = destination.deliverMessage(forwarded);
    if (dropped) {
      metrics.dropped[dropped]++;
      return;
    }
    const { payload, segmentSize } = frame;
    metrics.datagramsForwarded += segmentSize ? Math.ceil(payload.length / segmentSize) : 1;
    metrics.bytesForwarded += payload.length;
    registry.noteSent(this, destinationKey);
  }

  /** The registry key of `key`, remembering the last one (a 32-byte compare instead of a string). */
  #keyOf(key: Uint8Array): string {
    const last = this.#lastDestination;
    let same = this.#lastDestinationKey !== "";
    for (let i = 0; same && i < 32; i++) same = key[i] === last[i];
    if (same) return this.#lastDestinationKey;
    last.set(key);
    return this.#lastDestinationKey = keyString(key);
  }

  /**
   * Pings a ping interval (plus jitter) after the last pong, whatever the
   * client sends meanwhile, and closes it when the pong does not come back
   * within the pong timeout: a client that sends but does not read (or does
   * not answer) is cut. Only the pong re-arms the timer, no other frame.
   */
  #schedulePing(): void {
    const { pingIntervalMs, pingJitterMs, pongTimeoutMs } = this.#shared.timing;
    this.#arm(pingIntervalMs + Math.random() * pingJitterMs, () => {
      this.#pendingPing = crypto.getRandomValues(new Uint8Array(8));
      // Not subject to the datagram budget: one is outstanding at a time.
      this.#send({ type: "ping", data: this.#pendingPing });
      this.#arm(pongTimeoutMs, () => {
        this.#shared.metrics.refusals.timeout++;
        this.close(1000, "no pong in time");
      });
    });
  }

  #arm(ms: number, action: () => void): void {
    clearTimeout(this.#timer);
    if (this.#state === "closed") return;
    this.#timer = setTimeout(action, ms);
  }

  #overBudget(what: string): void {
    if (this.#state === "closed") return;
    const { metrics, lines, answerBudget } = this.#shared;
    metrics.refusals.budget++;
    lines.report(
      "send-budget",
      `relay: closed a client over its send budget: ${what} (over ${answerBudget} bytes waiting)`,
    );
    this.close(CLOSE_POLICY, "over its send budget: it does not read the answers it asks for");
  }

  /**
   * Its message still arriving did not fit the relay's receive total: closed,
   * as waiting would hold what it has while others fill the rest.
   */
  #overReceiveBudget(what: string): void {
    if (this.#state === "closed") return;
    const { metrics, lines, receiveTotal } = this.#shared;
    metrics.refusals["receive-budget"]++;
    lines.report(
      "receive-budget",
      `relay: closed a client over the receive budget: ${what} ` +
        `(${receiveTotal} bytes held for messages still arriving, in all)`,
    );
    this.close(
      CLOSE_POLICY,
      "over the relay's receive budget: too many messages arriving at once; reconnect",
    );
  }

  /** Gives back its unauthenticated place (once authenticated, or closed). */
  #leaveUnauthenticated(): void {
    if (this.#unauthenticatedAt === undefined) return;
    this.#shared.unauthenticated.release(this.#unauthenticatedAt);
    this.#unauthenticatedAt = undefined;
  }

  #violation(what: string): void {
    if (this.#state === "closed") return;
    this.#shared.metrics.refusals.protocol++;
    this.#shared.log.debug(`relay: closing ${shortKey(this.key) || "a client"}: ${what}`);
    this.close(CLOSE_PROTOCOL_ERROR, `protocol error: ${what}`);
  }

  #send(frame: RelayFrame): void {
    let message: Uint8Array;
    try {
      message = encodeRelayFrame(frame, this.#version);
    } catch {
      // A frame the codec will not write (a client's empty datagram): not sent.
      return;
    }
    this.#socket.send(message);
  }

  #closed(): void {
    if (this.#state === "closed") return;
    const wasActive = this.#state === "active";
    this.#state = "closed";
    clearTimeout(this.#timer);
    this.#leaveUnauthenticated();
    const { registry, metrics, log, clients } = this.#shared;
    clients.delete(this);
    if (!wasActive) return;
    metrics.clients--;
    const { gone, peers, reactivated } = registry.remove(this);
    if (reactivated && reactivated.#version === 2) {
      reactivated.deliver({ type: "status", status: "healthy" });
    }
    if (gone) {
      const endpoint = this.#keyBytes;
      for (const peer of peers) registry.active(peer)?.deliver({ type: "endpoint-gone", endpoint });
    }
    log.debug(`relay: client ${shortKey(this.key)} disconnected`);
  }
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function shortKey(key: string): string {
  return Array.from(key.slice(0, 4), (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}
