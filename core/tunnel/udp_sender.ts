/**
 * Sends one UDP payload to the peer: as a QUIC datagram when it fits, otherwise
 * framed on the session's control stream, so large packets still arrive.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import type { FramedStream } from "./framed_stream.ts";
import { DATAGRAM_HEADER, encodeDatagram, MAX_UDP_PAYLOAD } from "./messages.ts";

/** Sends UDP payloads of one session to the peer. */
export class UdpSender {
  readonly #conn: PeerConnection;
  readonly #control: FramedStream;
  // Oversized packets share one stream; writes are chained so frames never interleave.
  #streamTail: Promise<void> = Promise.resolve();

  constructor(conn: PeerConnection, control: FramedStream) {
    this.#conn = conn;
    this.#control = control;
  }

  /** Sends `payload` of flow `flowId`; payloads over 65,507 bytes are dropped as UDP would. */
  async send(flowId: number, payload: Uint8Array): Promise<void> {
    if (payload.length > MAX_UDP_PAYLOAD) return;
    if (DATAGRAM_HEADER + payload.length <= this.#conn.maxDatagramSize) {
      try {
        await this.#conn.sendDatagram(encodeDatagram(flowId, payload));
        return;
      } catch {
        // The limit shrank between the check and the send (path MTU changed):
        // fall through to the stream.
      }
    }
    const copy = payload.slice();
    const write = this.#streamTail.then(() =>
      this.#control.write({ type: "udp-packet", flowId, payload: copy })
    );
    this.#streamTail = write.catch(() => {});
    await write;
  }
}
