/**
 * {@linkcode PeerConnection} over Deno's built-in QUIC (quinn + rustls), with the
 * server pinned to its EndpointId by certificate.
 * @module
 */
import {
  type EndpointId,
  type SecretKey,
  serverCredentials,
  serverNameFor,
  trustAnchorFor,
} from "../identity/mod.ts";
import { AdmissionLimit, type AdmissionLimits } from "./admission.ts";
import { AsyncQueue } from "./async_queue.ts";
import type { CongestionControl } from "./congestion.ts";
import type { CloseInfo, DuplexStream, PeerConnection, PeerListener } from "./connection.ts";

/**
 * How often an idle connection sends a keep-alive. 1.5 s keeps NAT mappings
 * alive (most expire after 30 s or more) and, above all, gives the idle timeout
 * below four chances to hear from a live peer. The cost is one small packet
 * each way every 1.5 s on an idle tunnel.
 */
export const KEEP_ALIVE_MS = 1_500;
/**
 * A peer silent for this long (four keep-alive intervals, so a few lost
 * packets are not mistaken for death) is considered gone: each side notices a
 * dead peer within 6 s, which leaves room under the 10 s the CLI promises for
 * a loaded machine, and a server frees a vanished client's slot as soon.
 */
export const IDLE_TIMEOUT_MS = 6_000;
/**
 * The idle timeout of a connection carried by a relay: long enough to outlive
 * the relay reconnecting (up to 30 s), above the session's own bound for a
 * silent peer (40 s, core/transport/liveness.ts), which decides first and says
 * why. QUIC takes the lower of both sides' values, so a peer offering 6 s
 * (an older version) keeps 6 s.
 */
export const RELAYED_IDLE_TIMEOUT_MS = 45_000;
/** How long a dial may take before it is given up. */
export const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Each forwarded TCP connection is one stream; 1,024 lets a browser-like burst of
 * connections through while bounding what one peer can make the other hold.
 */
const MAX_CONCURRENT_STREAMS = 1024;

function transportOptions(idleTimeoutMs = IDLE_TIMEOUT_MS) {
  if (!(idleTimeoutMs > KEEP_ALIVE_MS)) {
    throw new RangeError(
      `QUIC idle timeout ${idleTimeoutMs} ms must exceed the keep-alive interval (${KEEP_ALIVE_MS} ms)`,
    );
  }
  return {
    keepAliveInterval: KEEP_ALIVE_MS,
    maxIdleTimeout: idleTimeoutMs,
    maxConcurrentBidirectionalStreams: MAX_CONCURRENT_STREAMS,
    maxConcurrentUnidirectionalStreams: 0,
  } as const;
}

/** Why dialing failed, for callers that add advice of their own. */
export type ConnectFailure = "identity" | "version" | "unreachable";

/** One address a dial could not reach: named as the user knows it, and why. */
export interface AddressFailure {
  /** The address as the user knows it (`192.0.2.1:7000`, `relay https://…`). */
  where: string;
  /** Why, in a few words ("connection refused", "no answer (timed out)"). */
  why: string;
}

/** Dialing a peer failed; the message says why in user terms. */
export class ConnectError extends Error {
  /** Always "ConnectError". */
  override name = "ConnectError";
  /** What failed: the peer's key, the protocol version, or reaching it at all. */
  readonly kind: ConnectFailure;
  /** For "unreachable": each address tried and why it failed, in order. */
  readonly failures: readonly AddressFailure[];

  /**
   * Builds the error.
   * @param kind what failed
   * @param message why, for users
   * @param failures for "unreachable", each address and why
   */
  constructor(kind: ConnectFailure, message: string, failures: readonly AddressFailure[] = []) {
    super(message);
    this.kind = kind;
    this.failures = failures;
  }
}

class QuicPeerConnection implements PeerConnection {
  readonly #conn: Deno.QuicConn;
  readonly #streams: ReadableStreamDefaultReader<Deno.QuicBidirectionalStream>;
  readonly closed: Promise<CloseInfo>;
  readonly remoteAddr: { hostname: string; port: number };
  #isClosed = false;
  #closedWith: CloseInfo | undefined;

  constructor(conn: Deno.QuicConn) {
    this.#conn = conn;
    this.#streams = conn.incomingBidirectionalStreams.getReader();
    this.remoteAddr = { hostname: conn.remoteAddr.hostname, port: conn.remoteAddr.port };
    this.closed = conn.closed.then(
      // Deno reports a connection we closed (quinn's LocallyClosed) as code 0 with
      // no reason; the interface promises the closer's own code and reason.
      (info) =>
        info.closeCode === 0 && info.reason === "" && this.#closedWith
          ? this.#closedWith
          : { code: info.closeCode, reason: info.reason },
      (error) => ({ code: -1, reason: describeQuicError(error) }),
    ).finally(() => {
      this.#isClosed = true;
    });
  }

  get maxDatagramSize(): number {
    return this.#conn.maxDatagramSize;
  }

  async openStream(): Promise<DuplexStream> {
    return await this.#conn.createBidirectionalStream({ waitUntilAvailable: true });
  }

  async acceptStream(): Promise<DuplexStream | null> {
    try {
      const { value } = await this.#streams.read();
      return value ?? null;
    } catch {
      return null;
    }
  }

  sendDatagram(data: Uint8Array): Promise<void> {
    return this.#conn.sendDatagram(data);
  }

  async readDatagram(): Promise<Uint8Array | null> {
    if (this.#isClosed) return null;
    try {
      return await this.#conn.readDatagram();
    } catch {
      return null;
    }
  }

  close(info: CloseInfo = { code: 0, reason: "" }): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closedWith = { code: info.code, reason: info.reason };
    try {
      this.#conn.close({ closeCode: info.code, reason: info.reason });
    } catch {
      // Already closed by the peer or by an idle timeout.
    }
  }
}

/**
 * A handshake that has not finished after this long is abandoned. A real one
 * takes one or two round trips (well under a second even across continents);
 * a replayed or stalled Initial would otherwise hold its slot until the idle
 * timeout.
 */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/**
 * Handshakes in progress at once. Each costs a little memory in quinn; the cap
 * keeps a flood of Initials (whose source addresses can be forged) from
 * growing that without bound, while 256 is far above any honest burst.
 */
export const MAX_PENDING_HANDSHAKES = 256;
/** Handshakes in progress at once from one IP address (a NAT shares one). */
export const MAX_PENDING_HANDSHAKES_PER_ADDRESS = 16;

/** Options for {@linkcode listenQuic}. */
export interface ListenQuicOptions {
  /** Address to bind; `::` (dual-stack) when absent. */
  hostname?: string;
  /** Port to bind; random when 0 or absent. */
  port?: number;
  /** The server's identity, presented as its certificate. */
  secretKey: SecretKey;
  /** ALPN protocols offered. */
  alpn: string;
  /** An endpoint to listen on instead of binding a new one (ICE hand-over). */
  endpoint?: Deno.QuicEndpoint;
  /** Give up on a handshake after this long. Default {@linkcode HANDSHAKE_TIMEOUT_MS}. */
  handshakeTimeoutMs?: number;
  /**
   * The idle timeout offered (each connection gets the lower of this and its
   * client's). Default {@linkcode IDLE_TIMEOUT_MS}; a listener that relayed
   * clients reach offers {@linkcode RELAYED_IDLE_TIMEOUT_MS}.
   */
  idleTimeoutMs?: number;
  /** Caps on handshakes in progress. Default 256 in total, 16 per address. */
  handshakeLimits?: AdmissionLimits;
  /**
   * Counts handshakes in progress here instead of in a count of the listener's
   * own (then `handshakeLimits` is ignored): a server that shares it with the
   * stage after the handshake (authentication) refuses new attempts while
   * that stage is full, before they cost a TLS handshake and a connection's
   * state (which Deno frees only when the connection object is collected).
   */
  admission?: AdmissionLimit;
  /** Told about each connection attempt that did not become a connection. */
  onHandshakeFailed?: (address: string, reason: string) => void;
  /**
   * The congestion controller of the connections accepted here (it governs what
   * this side sends). Default `"default"` (Deno's, Cubic-like); pick it with
   * `congestionControlToward` (./congestion.ts) for the address clients come from.
   */
  congestionControl?: CongestionControl;
}

/**
 * Listens for QUIC connections, presenting a certificate for `secretKey`.
 * Handshakes run concurrently, each under a deadline, so a peer that starts one
 * and never finishes it delays nobody else.
 * @throws {Deno.errors.AddrInUse} and friends when the address cannot be bound;
 *   {@linkcode RangeError} when the idle timeout is not above the keep-alive interval.
 */
export function listenQuic(options: ListenQuicOptions): PeerListener {
  const transport = transportOptions(options.idleTimeoutMs);
  const endpoint = options.endpoint ??
    new Deno.QuicEndpoint({ hostname: options.hostname ?? "::", port: options.port ?? 0 });
  const listener = endpoint.listen({
    ...serverCredentials(options.secretKey),
    alpnProtocols: [options.alpn],
    ...transport,
    congestionControl: options.congestionControl ?? "default",
  });
  const timeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const pending = options.admission ?? new AdmissionLimit(
    options.handshakeLimits ??
      { total: MAX_PENDING_HANDSHAKES, perAddress: MAX_PENDING_HANDSHAKES_PER_ADDRESS },
  );
  const failed = options.onHandshakeFailed ?? (() => {});
  const ready = new AsyncQueue<PeerConnection>();

  const handshake = async (conn: Deno.QuicConn, address: string) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const outcome = await Promise.race([
        conn.handshake.then(() => "done" as const),
        // The handshake promise also settles when the attempt dies; `closed` says which.
        conn.closed.then(
          (info) => `closed by the peer (${info.reason || info.closeCode})`,
          (error) => describeQuicError(error),
        ),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve("handshake timed out"), timeoutMs);
        }),
      ]);
      if (outcome !== "done") {
        closeQuietly(conn, outcome);
        failed(address, outcome);
        return;
      }
      if (!ready.push(new QuicPeerConnection(conn))) closeQuietly(conn, "server shutting down");
    } finally {
      clearTimeout(timer);
      pending.release(address);
    }
  };

  (async () => {
    try {
      for await (const incoming of listener) {
        if (pending.total >= pending.limits.total) {
          // Refusing (not ignoring) tells an honest client at once to retry later.
          incoming.refuse();
          failed("", `too many handshakes in progress (${pending.limits.total})`);
          continue;
        }
        // Accepting in 0.5-RTT mode hands over the connection before its handshake
        // completes, so a stalled one can be closed at the deadline. (Deno 2.9's
        // QuicIncoming.remoteAddr consumes the incoming, so the address is read
        // from the connection instead.) Nothing is read from a connection before
        // its handshake has completed, so early data is never acted upon.
        let conn: Deno.QuicConn;
        try {
          conn = incoming.accept({ zeroRtt: true });
        } catch (error) {
          failed("", describeQuicError(error));
          continue;
        }
        const address = conn.remoteAddr.hostname;
        const refusal = pending.tryAdmit(address);
        if (refusal) {
          const reason = refusal === "total"
            ? `too many handshakes in progress (${pending.limits.total})`
            : `too many handshakes in progress from one address (${pending.limits.perAddress})`;
          closeQuietly(conn, reason);
          failed(address, reason);
          continue;
        }
        handshake(conn, address);
      }
    } catch {
      // The endpoint was closed.
    } finally {
      ready.end();
    }
  })();

  return {
    addr: { hostname: endpoint.addr.hostname, port: endpoint.addr.port },
    accept: () => ready.shift(),
    close() {
      try {
        listener.stop();
      } catch { /* already stopped */ }
      endpoint.close();
      ready.end();
    },
  };
}

function closeQuietly(conn: Deno.QuicConn, reason: string): void {
  try {
    conn.close({ closeCode: 0, reason });
  } catch { /* already closed */ }
}

/** Options for {@linkcode dialQuic}. */
export interface DialQuicOptions {
  /** Where the peer can be reached; tried in order. */
  addrs: { hostname: string; port: number }[];
  /** The key the peer must hold; any other peer fails the handshake. */
  endpointId: EndpointId;
  /** ALPN protocol requested. */
  alpn: string;
  /** Endpoint to dial from (to reuse an ICE-nominated local port). */
  endpoint?: Deno.QuicEndpoint;
  /** Give up after this long per address. */
  timeoutMs?: number;
  /**
   * The idle timeout offered (the connection gets the lower of this and the
   * server's). Default {@linkcode IDLE_TIMEOUT_MS}; a relayed path offers
   * {@linkcode RELAYED_IDLE_TIMEOUT_MS}.
   */
  idleTimeoutMs?: number;
  /** Gives up once aborted (rejecting with the signal's reason), even mid-handshake. */
  signal?: AbortSignal;
  /**
   * The congestion controller of the connection (it governs what this side
   * sends), or a choice of one for each address tried (e.g.
   * `congestionControlToward` of ./congestion.ts). Default `"default"` (Deno's,
   * Cubic-like).
   */
  congestionControl?: CongestionControl | ((hostname: string) => CongestionControl);
  /**
   * How an address is named in errors. Default `host:port`; a relay's dial
   * names its relay, for the address it dials is its own loopback shim, which
   * the user never gave and cannot act on.
   */
  describeAddress?(addr: { hostname: string; port: number }): string;
  /** What the user should check when no address answers. Default: the address and the server. */
  unreachableHint?: string;
}

/**
 * Dials a peer and verifies it holds `endpointId`'s key.
 * @throws {ConnectError} with a message saying what failed and what to check;
 *   {@linkcode RangeError} when the idle timeout is not above the keep-alive interval.
 */
export async function dialQuic(options: DialQuicOptions): Promise<PeerConnection> {
  const failures: AddressFailure[] = [];
  const choice = options.congestionControl ?? "default";
  const transport = transportOptions(options.idleTimeoutMs);
  const describe = options.describeAddress ??
    // IPv6 literals in brackets, as the user would type them.
    ((addr: { hostname: string; port: number }) =>
      addr.hostname.includes(":")
        ? `[${addr.hostname}]:${addr.port}`
        : `${addr.hostname}:${addr.port}`);
  for (const addr of options.addrs) {
    options.signal?.throwIfAborted();
    let attempt: Promise<Deno.QuicConn>;
    try {
      attempt = Deno.connectQuic<false>({
        hostname: addr.hostname,
        port: addr.port,
        serverName: serverNameFor(options.endpointId),
        caCerts: [trustAnchorFor(options.endpointId)],
        alpnProtocols: [options.alpn],
        endpoint: options.endpoint,
        zeroRtt: false,
        ...transport,
        congestionControl: typeof choice === "function" ? choice(addr.hostname) : choice,
      });
    } catch (error) {
      // Name resolution fails synchronously, before there is anything to await.
      failures.push({ where: describe(addr), why: describeQuicError(error) });
      continue;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("timed out")),
        options.timeoutMs ?? CONNECT_TIMEOUT_MS,
      );
      // Another path won: this handshake is not waited for.
      onAbort = () => reject(options.signal!.reason);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const conn = await Promise.race([attempt, timeout]);
      return new QuicPeerConnection(conn);
    } catch (error) {
      attempt.then((late) => late.close(), () => {});
      if (options.signal?.aborted) throw options.signal.reason;
      const why = describeQuicError(error);
      if (why === IDENTITY_MISMATCH) throw new ConnectError("identity", why);
      if (why === VERSION_MISMATCH) throw new ConnectError("version", why);
      failures.push({ where: describe(addr), why });
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    }
  }
  const hint = options.unreachableHint ?? "check the address and that the server is running";
  throw new ConnectError(
    "unreachable",
    `Cannot reach the server (${failures.map((f) => `${f.where}: ${f.why}`).join("; ")}); ${hint}`,
    failures,
  );
}

const IDENTITY_MISMATCH =
  "the server's identity did not match the EndpointId (the wrong EndpointId, or another server at that address)";
const VERSION_MISMATCH = "the server speaks another protocol version; upgrade the older side";

/** Turns rustls/quinn error text into a sentence a user can act on. */
export function describeQuicError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/invalid peer certificate|UnknownIssuer|BadSignature|NotValidForName/.test(text)) {
    return IDENTITY_MISMATCH;
  }
  if (/no application protocol|doesn't support any known protocol|error 120/.test(text)) {
    return VERSION_MISMATCH;
  }
  if (/timed out/.test(text)) return "no answer (timed out)";
  if (/refused/i.test(text)) return "connection refused";
  if (/failed to lookup address|Name or service not known|nodename nor servname/i.test(text)) {
    return "cannot resolve the host name";
  }
  return text;
}
