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
import type { CloseInfo, DuplexStream, PeerConnection, PeerListener } from "./connection.ts";

/**
 * NAT mappings for UDP commonly expire after 30 s of silence (RFC 4787 asks for at
 * least 2 minutes, many home routers use less), so an idle tunnel pings every 10 s.
 */
export const KEEP_ALIVE_MS = 10_000;
/** A peer silent for this long (three missed keep-alives) is considered gone. */
export const IDLE_TIMEOUT_MS = 30_000;
/** How long a dial may take before it is given up. */
export const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Each forwarded TCP connection is one stream; 1,024 lets a browser-like burst of
 * connections through while bounding what one peer can make the other hold.
 */
const MAX_CONCURRENT_STREAMS = 1024;

const TRANSPORT_OPTIONS = {
  keepAliveInterval: KEEP_ALIVE_MS,
  maxIdleTimeout: IDLE_TIMEOUT_MS,
  maxConcurrentBidirectionalStreams: MAX_CONCURRENT_STREAMS,
  maxConcurrentUnidirectionalStreams: 0,
} as const;

/** Dialing a peer failed; the message says why in user terms. */
export class ConnectError extends Error {
  override name = "ConnectError";
}

class QuicPeerConnection implements PeerConnection {
  readonly #conn: Deno.QuicConn;
  readonly #streams: ReadableStreamDefaultReader<Deno.QuicBidirectionalStream>;
  readonly closed: Promise<CloseInfo>;
  readonly remoteAddr: { hostname: string; port: number };
  #isClosed = false;

  constructor(conn: Deno.QuicConn) {
    this.#conn = conn;
    this.#streams = conn.incomingBidirectionalStreams.getReader();
    this.remoteAddr = { hostname: conn.remoteAddr.hostname, port: conn.remoteAddr.port };
    this.closed = conn.closed.then(
      (info) => ({ code: info.closeCode, reason: info.reason }),
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
    try {
      this.#conn.close({ closeCode: info.code, reason: info.reason });
    } catch {
      // Already closed by the peer or by an idle timeout.
    }
  }
}

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
}

/**
 * Listens for QUIC connections, presenting a certificate for `secretKey`.
 * @throws {Deno.errors.AddrInUse} and friends when the address cannot be bound.
 */
export function listenQuic(options: ListenQuicOptions): PeerListener {
  const endpoint = options.endpoint ??
    new Deno.QuicEndpoint({ hostname: options.hostname ?? "::", port: options.port ?? 0 });
  const listener = endpoint.listen({
    ...serverCredentials(options.secretKey),
    alpnProtocols: [options.alpn],
    ...TRANSPORT_OPTIONS,
  });
  const incoming = listener[Symbol.asyncIterator]();
  return {
    addr: { hostname: endpoint.addr.hostname, port: endpoint.addr.port },
    async accept() {
      for (;;) {
        let next: IteratorResult<Deno.QuicIncoming>;
        try {
          next = await incoming.next();
        } catch {
          return null;
        }
        if (next.done) return null;
        try {
          const conn = await next.value.accept();
          await conn.handshake;
          return new QuicPeerConnection(conn);
        } catch {
          // A failed handshake (wrong pin, wrong protocol version) concerns only
          // that peer; keep serving the others.
          continue;
        }
      }
    },
    close() {
      try {
        listener.stop();
      } catch { /* already stopped */ }
      endpoint.close();
    },
  };
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
  signal?: AbortSignal;
}

/**
 * Dials a peer and verifies it holds `endpointId`'s key.
 * @throws {ConnectError} with a message saying what failed and what to check.
 */
export async function dialQuic(options: DialQuicOptions): Promise<PeerConnection> {
  const failures: string[] = [];
  for (const addr of options.addrs) {
    options.signal?.throwIfAborted();
    const attempt: Promise<Deno.QuicConn> = Deno.connectQuic<false>({
      hostname: addr.hostname,
      port: addr.port,
      serverName: serverNameFor(options.endpointId),
      caCerts: [trustAnchorFor(options.endpointId)],
      alpnProtocols: [options.alpn],
      endpoint: options.endpoint,
      zeroRtt: false,
      ...TRANSPORT_OPTIONS,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("timed out")),
        options.timeoutMs ?? CONNECT_TIMEOUT_MS,
      );
    });
    try {
      const conn = await Promise.race([attempt, timeout]);
      return new QuicPeerConnection(conn);
    } catch (error) {
      attempt.then((late) => late.close(), () => {});
      const why = describeQuicError(error);
      if (/identity/.test(why) || /protocol version/.test(why)) throw new ConnectError(why);
      failures.push(`${addr.hostname}:${addr.port}: ${why}`);
    } finally {
      clearTimeout(timer);
    }
  }
  throw new ConnectError(
    `Cannot reach the server (${
      failures.join("; ")
    }); check the address and that the server is running`,
  );
}

/** Turns rustls/quinn error text into a sentence a user can act on. */
export function describeQuicError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/invalid peer certificate|UnknownIssuer|BadSignature|NotValidForName/.test(text)) {
    return "the server's identity did not match the EndpointId (wrong --server-node-id, or another server at that address)";
  }
  if (/no application protocol|doesn't support any known protocol|error 120/.test(text)) {
    return "the server speaks another protocol version; upgrade the older side";
  }
  if (/timed out/.test(text)) return "no answer (timed out)";
  if (/refused/i.test(text)) return "connection refused";
  return text;
}
