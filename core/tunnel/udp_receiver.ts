/**
 * Receives a session's UDP payloads from the peer, from both places they travel:
 * QUIC datagrams and frames on the control stream.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import type { FramedStream } from "./framed_stream.ts";
import { decodeDatagram } from "./messages.ts";

/** Handles one payload of flow `flowId`. */
export type UdpPayloadHandler = (flowId: number, payload: Uint8Array) => void | Promise<void>;

/**
 * Delivers every UDP payload the peer sends to `handle` until the connection or
 * the control stream ends. A malformed datagram is dropped (it cannot come from
 * an honest peer, and UDP has no way to report it); a malformed frame on the
 * control stream ends the session (the stream cannot be resynchronised).
 */
export async function receiveUdpPayloads(
  conn: PeerConnection,
  control: FramedStream,
  handle: UdpPayloadHandler,
): Promise<void> {
  const datagrams = (async () => {
    for (;;) {
      const datagram = await conn.readDatagram();
      if (!datagram) return;
      let decoded;
      try {
        decoded = decodeDatagram(datagram);
      } catch {
        continue;
      }
      await handle(decoded.flowId, decoded.payload);
    }
  })();
  const framed = (async () => {
    for (;;) {
      const message = await control.read();
      if (!message) return;
      if (message.type !== "udp-packet") throw new Error(`unexpected ${message.type} message`);
      await handle(message.flowId, message.payload);
    }
  })();
  // Either ending ends the session; the caller closes the connection, which ends the other.
  await Promise.race([datagrams, framed]);
}
