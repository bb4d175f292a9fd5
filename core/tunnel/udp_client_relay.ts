/**
 * The client's UDP side: a local socket whose peers each become a flow through
 * the tunnel. The socket and the flows outlive a session: when the client
 * reconnects, the same flows go on through the next session (the server opens
 * a flow on its first datagram).
 * @module
 */
import { CloseCode } from "../transport/mod.ts";
import type { ClientSession } from "./client_session.ts";
import type { TunnelLog } from "./log.ts";
import { RepeatedLines } from "../log/mod.ts";
import type { SessionSupplier } from "./session_supplier.ts";
import { LocalPeerFlows } from "./udp_flows.ts";
import { receiveUdpPayloads } from "./udp_receiver.ts";
import { UdpSender } from "./udp_sender.ts";

/** One buffer for the socket: the largest datagram plus one. */
const RECEIVE_BUFFER = 65_536;
const SWEEP_INTERVAL_MS = 10_000;

/**
 * Relays between local UDP peers of `socket` and the tunnel, through the
 * session `sessions` has at each datagram, until `socket` is closed.
 * Datagrams that arrive while there is none are dropped and counted.
 */
export async function relayLocalUdp(
  sessions: SessionSupplier,
  socket: Deno.DatagramConn,
  log: TunnelLog,
): Promise<{ sent: number; received: number }> {
  const totals = { sent: 0, received: 0 };
  const flows = new LocalPeerFlows();
  const drops = new RepeatedLines((line) => log.warn(line));
  const dropped = { oversized: 0, "queue-full": 0 };
  const receivers: Promise<void>[] = [];
  let current: { session: ClientSession; sender: UdpSender } | undefined;
  const sweeper = setInterval(() => flows.expire(Date.now()), SWEEP_INTERVAL_MS);

  /** Replies of `session` go back to the local peer of their flow, until the session ends. */
  const receive = async (session: ClientSession) => {
    let end = { code: CloseCode.Done as number, reason: "UDP session ended" };
    try {
      await receiveUdpPayloads(session.conn, session.control, async (flowId, payload) => {
        const flow = flows.byId(flowId, Date.now());
        if (!flow) return;
        totals.received += payload.length;
        session.stats.received += payload.length;
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
      end = { code: CloseCode.ProtocolViolation, reason: (error as Error).message };
    }
    // Either way of receiving ended, so the session has (a broken control stream
    // cannot be resynchronised): close it, and a reconnecting client makes another.
    session.conn.close(end);
  };

  /** The sender of the live session, started on its first datagram. */
  const senderFor = (session: ClientSession): UdpSender => {
    if (current?.session !== session) {
      if (current) addDrops(dropped, current.sender.dropped);
      current = { session, sender: new UdpSender(session.conn, session.control) };
      session.stats.countUdpFlows(() => flows.size);
      // Nothing comes back before a flow sent something, so receiving starts here too.
      receivers.push(receive(session));
    }
    return current.sender;
  };

  const buffer = new Uint8Array(RECEIVE_BUFFER);
  try {
    for (;;) {
      // Nothing is awaited between receives but the receive itself: the
      // kernel's socket buffer is small, and a burst is lost there when the
      // loop lingers (the sender copies and queues).
      const [data, from] = await socket.receive(buffer);
      const addr = from as Deno.NetAddr;
      const session = sessions.peek();
      if (!session) {
        drops.report(
          "no-session",
          `UDP datagram from ${addr.hostname}:${addr.port} dropped: no session to the server`,
        );
        continue;
      }
      const flow = flows.flowFor(addr.hostname, addr.port, Date.now());
      totals.sent += data.length;
      session.stats.sent += data.length;
      senderFor(session).send(flow.id, data);
    }
  } catch (error) {
    log.debug(`local UDP socket ended: ${(error as Error).message}`);
  } finally {
    clearInterval(sweeper);
    drops.close();
    // Each ends with its session's connection, which the caller closes when it closes the socket.
    await Promise.all(receivers);
    if (current) addDrops(dropped, current.sender.dropped);
    const { oversized, "queue-full": queueFull } = dropped;
    if (oversized + queueFull > 0) {
      log.warn(
        `${queueFull} UDP datagrams dropped because the tunnel did not keep up, ${oversized} too large for UDP`,
      );
    }
  }
  return totals;
}

function addDrops(total: Record<string, number>, more: Record<string, number>): void {
  for (const [reason, count] of Object.entries(more)) total[reason] += count;
}
