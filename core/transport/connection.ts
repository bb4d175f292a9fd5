/**
 * The one small interface every way of reaching a peer implements: a direct QUIC
 * dial today, an ICE-nominated path or a relay path later. Session logic sees
 * only this, never how the connection was made.
 * @module
 */

/** One bidirectional byte stream, ordered and reliable, with independent halves. */
export interface DuplexStream {
  /** Bytes from the peer; ends when the peer finishes its half. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; closing it finishes our half. */
  readonly writable: WritableStream<Uint8Array>;
}

/** Why a connection ended, as the closing side said it. */
export interface CloseInfo {
  /** Application close code ({@linkcode CloseCode}). */
  code: number;
  /** Why, in words. */
  reason: string;
}

/** An authenticated, encrypted connection to one peer. */
export interface PeerConnection {
  /** Where the peer's packets come from (for logs). */
  readonly remoteAddr: { hostname: string; port: number };
  /** Opens a stream; the peer sees it when the first bytes arrive. */
  openStream(): Promise<DuplexStream>;
  /** The next stream the peer opened, or `null` once the connection is closed. */
  acceptStream(): Promise<DuplexStream | null>;
  /** Largest datagram that fits now; it may change as the path MTU is learned. */
  readonly maxDatagramSize: number;
  /** Sends an unreliable datagram of at most {@linkcode maxDatagramSize} bytes. */
  sendDatagram(data: Uint8Array): Promise<void>;
  /** The next datagram, or `null` once the connection is closed. */
  readDatagram(): Promise<Uint8Array | null>;
  /** Closes the connection, telling the peer why. Safe to call more than once. */
  close(info?: CloseInfo): void;
  /** Settles when the connection has ended, with the reason either side gave. */
  readonly closed: Promise<CloseInfo>;
}

/** Accepts incoming connections. */
export interface PeerListener {
  /** The next connection whose handshake completed, or `null` once closed. */
  accept(): Promise<PeerConnection | null>;
  /** Addresses the listener is bound to. */
  readonly addr: { hostname: string; port: number };
  /** Stops accepting and closes every connection. */
  close(): void;
}

/** Close codes this project puts on the wire (application error codes). */
export const CloseCode = {
  /** Normal end of a session. */
  Done: 0,
  /** Authentication missing, late or wrong. */
  AuthFailed: 1,
  /** The peer broke the protocol. */
  ProtocolViolation: 2,
  /** The server is shutting down or at capacity. */
  ServerUnavailable: 3,
} as const;
