/**
 * Sends UDP payloads to the peer without making the caller wait: as QUIC
 * datagrams when they fit, otherwise as frames on the session's control stream,
 * joined into one write while the previous write is in flight. A local socket's
 * receive loop can then drain its kernel buffer as fast as packets arrive.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import type { FramedStream } from "./framed_stream.ts";
import {
  DATAGRAM_HEADER,
  encodeDatagram,
  encodeUdpPacketFrame,
  MAX_UDP_PAYLOAD,
} from "./messages.ts";

/**
 * Datagram sends handed to QUIC and not yet settled. quinn queues datagrams
 * itself (and drops the oldest past its buffer); this bounds the promises we
 * keep for them.
 */
const MAX_DATAGRAMS_IN_FLIGHT = 4_096;
/**
 * Bytes of frames waiting for the control stream. 4 MiB holds a burst of over
 * 3,000 full-size packets; past it the stream is not keeping up and packets are
 * dropped, as a congested link would.
 */
const MAX_QUEUED_STREAM_BYTES = 4 << 20;

/** Why {@linkcode UdpSender.send} dropped a payload. */
export type UdpDropReason = "oversized" | "queue-full";

/** Sends the UDP payloads of one session to the peer. */
export class UdpSender {
  readonly #conn: PeerConnection;
  readonly #control: FramedStream;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing = false;
  #datagramsInFlight = 0;
  #failed = false;

  /** Payloads dropped so far, by reason. */
  readonly dropped: Record<UdpDropReason, number> = { oversized: 0, "queue-full": 0 };

  constructor(conn: PeerConnection, control: FramedStream) {
    this.#conn = conn;
    this.#control = control;
  }

  /**
   * Queues `payload` of flow `flowId` for the peer; copies it, so the caller may
   * reuse its buffer at once. Returns why it was dropped, if it was.
   */
  send(flowId: number, payload: Uint8Array): UdpDropReason | undefined {
    if (payload.length > MAX_UDP_PAYLOAD) return this.#drop("oversized");
    if (
      DATAGRAM_HEADER + payload.length <= this.#conn.maxDatagramSize &&
      this.#datagramsInFlight < MAX_DATAGRAMS_IN_FLIGHT
    ) {
      const datagram = encodeDatagram(flowId, payload);
      this.#datagramsInFlight++;
      this.#conn.sendDatagram(datagram).then(
        () => this.#datagramsInFlight--,
        () => {
          this.#datagramsInFlight--;
          // The limit shrank between the check and the send (path MTU changed):
          // the stream still carries it.
          this.#enqueue(encodeUdpPacketFrame(flowId, datagram.subarray(DATAGRAM_HEADER)));
        },
      );
      return undefined;
    }
    return this.#enqueue(encodeUdpPacketFrame(flowId, payload));
  }

  #enqueue(frame: Uint8Array): UdpDropReason | undefined {
    if (this.#failed) return undefined;
    if (this.#queuedBytes + frame.length > MAX_QUEUED_STREAM_BYTES) return this.#drop("queue-full");
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    if (!this.#writing) this.#drain();
    return undefined;
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const frames = this.#queue;
        const bytes = this.#queuedBytes;
        this.#queue = [];
        this.#queuedBytes = 0;
        await this.#control.writeEncoded(frames.length === 1 ? frames[0] : join(frames, bytes));
      }
    } catch {
      // The stream is gone, so is the session; the receive side ends it.
      this.#failed = true;
      this.#queue = [];
      this.#queuedBytes = 0;
    } finally {
      this.#writing = false;
    }
  }

  #drop(reason: UdpDropReason): UdpDropReason {
    this.dropped[reason]++;
    return reason;
  }
}

function join(frames: Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}
