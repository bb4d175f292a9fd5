/**
 * Receives a session's UDP payloads from the peer, from both places they travel:
 * QUIC datagrams and frames on the control stream.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import type { FramedStream } from "./framed_stream.ts";
import { decodeDatagram, ProtocolError } from "./messages.ts";

/** Handles one payload of flow `flowId`. */
export type UdpPayloadHandler = (flowId: number, payload: Uint8Array) => void | Promise<void>;

/**
 * Delivers every UDP payload the peer sends to `handle` until the connection
 * ends. A malformed datagram is dropped (it cannot come from an honest peer, and
 * UDP has no way to report it); a malformed frame on the control stream ends
 * the session (the stream cannot be resynchronised). The control stream lives
 * on the session's first path: when that path goes while another carries the
 * session, datagrams go on (payloads too large for one are then lost).
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
      let message;
      try {
        message = await control.read();
      } catch (error) {
        if (error instanceof ProtocolError) throw error;
        return; // the stream's path is gone
      }
      if (!message) return;
      if (message.type !== "udp-packet") {
        throw new ProtocolError(`unexpected ${message.type} message`);
      }
      await handle(message.flowId, message.payload);
    }
  })();
  // The connection's end ends the session, and so does a protocol error on the
  // stream (the caller then closes the connection, which ends the datagrams).
  await Promise.race([datagrams, framed.then(() => datagrams)]);
}
