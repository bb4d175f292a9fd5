/**
 * WireGuard messages over a tunnel session's connection: each as one QUIC
 * datagram when it fits, framed on a stream of the session when it does not.
 * A fresh connection's datagrams hold 1,162 bytes and a full 1,420-byte packet
 * makes a 1,452-byte message, so big packets are not lost to the limit: they
 * travel reliably, in order among themselves, while small ones stay datagrams.
 * @module
 */
import type { DuplexStream, PeerConnection } from "../transport/mod.ts";
import { encodeWireGuardFrames, FrameDecoder } from "../tunnel/mod.ts";
import type { PacketPath } from "./wireguard/mod.ts";
import { PacketBatches } from "./packet_batches.ts";

/**
 * Bytes waiting for the stream at most; more messages are dropped. Four
 * megabytes is several round trips of a fast path: enough to keep the stream
 * busy, little enough that a stalled one does not grow memory.
 */
const MAX_STREAM_BACKLOG = 4 << 20;
/** Bytes before each message on the packet stream: a frame's type and length. */
const FRAME_HEADER = 3;
/** Streams the peer may have open towards us at once (one is normal; a new one replaces a lost one). */
const MAX_INCOMING_STREAMS = 4;

/** What a session's packet path counts. */
export interface SessionPacketCounts {
  /** Messages sent as datagrams. */
  datagrams: number;
  /** Messages sent on the stream (larger than a datagram). */
  streamed: number;
  /** Messages dropped on the way out (stream backlog full, send failed). */
  dropped: number;
}

/** A {@linkcode PacketPath} over a session's connection. */
export class SessionPacketPath implements PacketPath {
  /** What was sent how. */
  readonly counts: SessionPacketCounts = { datagrams: 0, streamed: 0, dropped: 0 };
  readonly #conn: PeerConnection;
  readonly #incoming = new PacketBatches();
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #backlog: Uint8Array[] = [];
  #backlogBytes = 0;
  #flushing = false;
  #incomingStreams = 0;
  #closed = false;

  /** Starts receiving the peer's datagrams and packet streams on `conn`. */
  constructor(conn: PeerConnection) {
    this.#conn = conn;
    this.#readDatagrams();
    this.#acceptStreams();
  }

  /** Sends messages, each as a datagram when it fits, else on the packet stream. */
  send(messages: readonly Uint8Array[]): void {
    if (this.#closed) return;
    const limit = this.#conn.maxDatagramSize;
    let queued = false;
    for (const message of messages) {
      if (message.length <= limit) {
        this.counts.datagrams++;
        this.#conn.sendDatagram(message).catch(() => this.counts.dropped++);
        continue;
      }
      const bytes = FRAME_HEADER + message.length;
      if (this.#backlogBytes + bytes > MAX_STREAM_BACKLOG) {
        this.counts.dropped++;
        continue;
      }
      this.#backlog.push(message);
      this.#backlogBytes += bytes;
      this.counts.streamed++;
      queued = true;
    }
    if (queued) this.#flush();
  }

  /** The next messages from the peer; `null` once the connection is closed. */
  receive(): Promise<Uint8Array[] | null> {
    return this.#incoming.take();
  }

  /** Stops sending and receiving (the connection stays as it is). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#incoming.end();
    this.#writer?.close().catch(() => {});
    this.#writer = undefined;
    this.#backlog = [];
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#backlog.length > 0 && !this.#closed) {
        const messages = this.#backlog;
        this.#backlog = [];
        this.#backlogBytes = 0;
        // Everything waiting goes as one buffer of frames: one allocation, one stream write.
        const frames = encodeWireGuardFrames(messages);
        try {
          this.#writer ??= (await this.#conn.openStream()).writable.getWriter();
          await this.#writer.write(frames);
        } catch {
          // The stream went with its path: these are lost, the next ones open a new stream.
          this.counts.dropped += messages.length;
          this.#writer = undefined;
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #readDatagrams(): Promise<void> {
    try {
      for (;;) {
        const datagram = await this.#conn.readDatagram();
        if (datagram === null) break;
        this.#incoming.push(datagram);
      }
    } catch {
      // The connection failed: same as closed.
    }
    this.close();
  }

  async #acceptStreams(): Promise<void> {
    for (;;) {
      let stream: DuplexStream | null;
      try {
        stream = await this.#conn.acceptStream();
      } catch {
        return;
      }
      if (stream === null) return;
      if (this.#incomingStreams >= MAX_INCOMING_STREAMS) {
        stream.readable.cancel().catch(() => {});
        stream.writable.abort().catch(() => {});
        continue;
      }
      this.#readStream(stream);
    }
  }

  async #readStream(stream: DuplexStream): Promise<void> {
    this.#incomingStreams++;
    const decoder = new FrameDecoder();
    const reader = stream.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.#closed) break;
        for (const message of decoder.push(value)) {
          // Only WireGuard messages belong here; anything else ends the stream.
          if (message.type !== "wireguard-message") throw new Error(`unexpected ${message.type}`);
          this.#incoming.push(message.message);
        }
      }
    } catch {
      // A broken or malformed stream: drop it, the peer opens another.
    } finally {
      this.#incomingStreams--;
      reader.cancel().catch(() => {});
      stream.writable.abort().catch(() => {});
    }
  }
}
