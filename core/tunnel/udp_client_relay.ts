/**
 * The client's UDP side of a session: a local socket whose peers each become a
 * flow through the tunnel.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import type { FramedStream } from "./framed_stream.ts";
import type { TunnelLog } from "./log.ts";
import { LocalPeerFlows } from "./udp_flows.ts";
import { receiveUdpPayloads } from "./udp_receiver.ts";
import { UdpSender } from "./udp_sender.ts";
import type { SessionStats } from "./session_stats.ts";

/** One buffer for the socket: the largest datagram plus one. */
const RECEIVE_BUFFER = 65_536;
const SWEEP_INTERVAL_MS = 10_000;

/**
 * Relays between local UDP peers of `socket` and the tunnel until the
 * connection ends. Closes `socket` when done.
 */
export async function relayLocalUdp(
  conn: PeerConnection,
  control: FramedStream,
  socket: Deno.DatagramConn,
  log: TunnelLog,
  stats?: SessionStats,
): Promise<{ sent: number; received: number }> {
  const totals = { sent: 0, received: 0 };
  const flows = new LocalPeerFlows();
  stats?.countUdpFlows(() => flows.size);
  const sender = new UdpSender(conn, control);
  const sweeper = setInterval(() => flows.expire(Date.now()), SWEEP_INTERVAL_MS);

  const outbound = (async () => {
    const buffer = new Uint8Array(RECEIVE_BUFFER);
    try {
      for (;;) {
        // Nothing is awaited between receives but the receive itself: the
        // kernel's socket buffer is small, and a burst is lost there when the
        // loop lingers (the sender copies and queues).
        const [data, from] = await socket.receive(buffer);
        const addr = from as Deno.NetAddr;
        const flow = flows.flowFor(addr.hostname, addr.port, Date.now());
        totals.sent += data.length;
        if (stats) stats.sent += data.length;
        sender.send(flow.id, data);
      }
    } catch (error) {
      log.debug(`local UDP socket ended: ${(error as Error).message}`);
    }
  })();

  try {
    await receiveUdpPayloads(conn, control, async (flowId, payload) => {
      const flow = flows.byId(flowId, Date.now());
      if (!flow) return;
      totals.received += payload.length;
      if (stats) stats.received += payload.length;
      try {
        await socket.send(payload, { transport: "udp", ...flow.value });
      } catch (error) {
        log.debug(
          `UDP send to ${flow.value.hostname}:${flow.value.port} failed: ${
            (error as Error).message
          }`,
        );
      }
    });
  } catch (error) {
    log.debug(`UDP session ended: ${(error as Error).message}`);
  } finally {
    clearInterval(sweeper);
    try {
      socket.close();
    } catch { /* closed */ }
    await outbound;
    const { oversized, "queue-full": queueFull } = sender.dropped;
    if (oversized + queueFull > 0) {
      log.warn(
        `${queueFull} UDP datagrams dropped because the tunnel did not keep up, ${oversized} too large for UDP`,
      );
    }
  }
  return totals;
}
