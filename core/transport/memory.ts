/**
 * Two {@linkcode PeerConnection}s joined in memory, for testing session logic
 * without sockets. They behave like the QUIC transport as far as the interface
 * shows: streams appear to the peer when their first bytes arrive, halves close
 * independently, buffering is bounded, datagrams are size-limited and dropped
 * oldest-first when unread, and closing one side closes both.
 * @module
 */
import { DatagramQueue } from "./_datagram_queue.ts";
import { type MemoryStream, memoryStream } from "./_memory_stream.ts";
import { AsyncQueue } from "./async_queue.ts";
import type { CloseInfo, DuplexStream, PeerConnection } from "./connection.ts";

/**
 * What Deno's QUIC reports as `maxDatagramSize` on a fresh loopback connection
 * (1,200-byte packets less QUIC's headers), so code tested in memory also fits
 * the real path before its MTU is learned.
 */
const DEFAULT_MAX_DATAGRAM_SIZE = 1_162;
/** quinn's default datagram receive buffer, so drops start where they would in QUIC. */
const DEFAULT_DATAGRAM_BUFFER_BYTES = 1_250_000;
/**
 * Unread bytes per stream direction. Four of tcp_pipe's 64 KiB chunks, so a live
 * reader never makes a writer wait, while a test reaches the bound (a stalled
 * reader stalls its writer) after a quarter of a megabyte.
 */
const DEFAULT_STREAM_BUFFER_BYTES = 256 * 1024;
/** Streams each side may have open at once: the QUIC transport's limit. */
const DEFAULT_MAX_STREAMS = 1_024;

/** Options for {@linkcode memoryConnectionPair}. */
export interface MemoryConnectionOptions {
  /** Largest datagram `sendDatagram()` accepts. Default 1,162, as Deno's QUIC on loopback. */
  maxDatagramSize?: number;
  /**
   * Unread datagram bytes each side holds; past it the oldest are dropped (as
   * quinn does). Default 1,250,000, quinn's default.
   */
  datagramBufferBytes?: number;
  /** Unread bytes each stream direction holds before the writer's `write()` waits. Default 256 KiB. */
  streamBufferBytes?: number;
  /**
   * Streams each side may have open at once; `openStream()` waits beyond that.
   * As in QUIC, a stream stops counting once the peer's end is done: it read to
   * the end (or stopped reading) and ended its writable (or reset it). Default
   * 1,024, the QUIC transport's limit.
   */
  maxStreams?: number;
  /** Where `a` and `b` are: each reports the other's as `remoteAddr`. */
  addrs?: [{ hostname: string; port: number }, { hostname: string; port: number }];
}

/**
 * Creates two connected {@linkcode PeerConnection}s: what one sends, the other
 * receives. Streams appear on the peer's `acceptStream()` when the opener first
 * writes bytes (or closes or aborts its writable), as with QUIC, so a protocol
 * where the opener speaks first works unchanged on both.
 *
 * ```ts
 * import { memoryConnectionPair } from "./memory.ts";
 * const [a, b] = memoryConnectionPair();
 * const stream = await a.openStream();
 * const writer = stream.writable.getWriter();
 * await writer.write(new TextEncoder().encode("hello"));
 * const accepted = await b.acceptStream(); // the stream a opened
 * a.close({ code: 0, reason: "done" }); // both sides' `closed` settle with it
 * ```
 * @throws {RangeError} when an option is not a positive integer.
 */
export function memoryConnectionPair(
  options: MemoryConnectionOptions = {},
): [PeerConnection, PeerConnection] {
  const limits = {
    maxDatagramSize: positive(options.maxDatagramSize, DEFAULT_MAX_DATAGRAM_SIZE),
    datagramBufferBytes: positive(options.datagramBufferBytes, DEFAULT_DATAGRAM_BUFFER_BYTES),
    streamBufferBytes: positive(options.streamBufferBytes, DEFAULT_STREAM_BUFFER_BYTES),
    maxStreams: positive(options.maxStreams, DEFAULT_MAX_STREAMS),
  };
  const [addrA, addrB] = options.addrs ??
    [{ hostname: "memory", port: 1 }, { hostname: "memory", port: 2 }];
  const link = new Link(limits.datagramBufferBytes);
  const [sideA, sideB] = link.sides;
  return [
    new MemoryPeerConnection(link, sideA, sideB, addrB, limits),
    new MemoryPeerConnection(link, sideB, sideA, addrA, limits),
  ];
}

function positive(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Cannot create a memory connection: ${value} is not a positive integer`);
  }
  return value;
}

/** What one side receives, and the streams it has open. */
class Side {
  readonly incoming = new AsyncQueue<DuplexStream>();
  readonly datagrams: DatagramQueue;
  opened = 0;
  readonly slotWaiters: (() => void)[] = [];

  constructor(datagramBufferBytes: number) {
    this.datagrams = new DatagramQueue(datagramBufferBytes);
  }
}

/** The state both ends share: one close for both, and every live stream. */
class Link {
  readonly sides: [Side, Side];
  readonly streams = new Set<MemoryStream>();
  readonly closed: Promise<CloseInfo>;
  info: CloseInfo | undefined;
  #settle!: (info: CloseInfo) => void;

  constructor(datagramBufferBytes: number) {
    this.sides = [new Side(datagramBufferBytes), new Side(datagramBufferBytes)];
    this.closed = new Promise((resolve) => this.#settle = resolve);
  }

  close(info: CloseInfo): void {
    if (this.info) return;
    this.info = { code: info.code, reason: info.reason };
    const error = new Error(`Cannot use the stream: the connection was ${this.describe()}`);
    for (const stream of [...this.streams]) stream.fail(error);
    for (const side of this.sides) {
      side.incoming.end();
      side.datagrams.end();
      for (const wake of side.slotWaiters.splice(0)) wake();
    }
    this.#settle(this.info);
  }

  describe(): string {
    const { code, reason } = this.info!;
    return `closed (code ${code}${reason ? `: ${reason}` : ""})`;
  }
}

class MemoryPeerConnection implements PeerConnection {
  readonly remoteAddr: { hostname: string; port: number };
  readonly maxDatagramSize: number;
  readonly closed: Promise<CloseInfo>;
  readonly #link: Link;
  readonly #local: Side;
  readonly #peer: Side;
  readonly #limits: { streamBufferBytes: number; maxStreams: number };

  constructor(
    link: Link,
    local: Side,
    peer: Side,
    remoteAddr: { hostname: string; port: number },
    limits: { maxDatagramSize: number; streamBufferBytes: number; maxStreams: number },
  ) {
    this.#link = link;
    this.#local = local;
    this.#peer = peer;
    this.#limits = limits;
    this.remoteAddr = { hostname: remoteAddr.hostname, port: remoteAddr.port };
    this.maxDatagramSize = limits.maxDatagramSize;
    this.closed = link.closed;
  }

  async openStream(): Promise<DuplexStream> {
    const local = this.#local;
    while (local.opened >= this.#limits.maxStreams && !this.#link.info) {
      await new Promise<void>((resolve) => local.slotWaiters.push(resolve));
    }
    if (this.#link.info) {
      throw new Error(`Cannot open a stream: the connection was ${this.#link.describe()}`);
    }
    local.opened++;
    const stream: MemoryStream = memoryStream({
      bufferBytes: this.#limits.streamBufferBytes,
      onFirstUse: () => this.#peer.incoming.push(stream.accepter),
      onReleased: () => {
        local.opened--;
        local.slotWaiters.shift()?.();
      },
      onFinished: () => this.#link.streams.delete(stream),
    });
    this.#link.streams.add(stream);
    return stream.opener;
  }

  acceptStream(): Promise<DuplexStream | null> {
    if (this.#link.info) return Promise.resolve(null);
    return this.#local.incoming.shift();
  }

  sendDatagram(data: Uint8Array): Promise<void> {
    if (this.#link.info) {
      return Promise.reject(
        new Error(`Cannot send a datagram: the connection was ${this.#link.describe()}`),
      );
    }
    if (data.length > this.maxDatagramSize) {
      return Promise.reject(
        new RangeError(
          `Cannot send a datagram: datagram too large (${data.length} bytes, at most ${this.maxDatagramSize})`,
        ),
      );
    }
    this.#peer.datagrams.push(data.slice());
    return Promise.resolve();
  }

  readDatagram(): Promise<Uint8Array | null> {
    if (this.#link.info) return Promise.resolve(null);
    return this.#local.datagrams.shift();
  }

  close(info: CloseInfo = { code: 0, reason: "" }): void {
    this.#link.close(info);
  }
}
