/**
 * The server's UDP side of a session: one upstream socket per client flow, so the
 * service sees each client peer as its own address and replies find their way back.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import type { DatagramAddr, DatagramSocket, Dialer } from "./dialer.ts";
import type { FramedStream } from "./framed_stream.ts";
import type { TunnelLog } from "./log.ts";
import type { RepeatedLines } from "../log/mod.ts";
import type { PoolSlots } from "./session_limiter.ts";
import { receiveUdpPayloads } from "./udp_receiver.ts";
import { MAX_UDP_FLOWS, UDP_FLOW_IDLE_MS, type UdpFlow, UdpFlowTable } from "./udp_flows.ts";
import { UdpReceiveSlots } from "./udp_receive_slots.ts";
import { UdpSender } from "./udp_sender.ts";
import type { SessionStats } from "./session_stats.ts";

/** How often idle flows are looked for. */
const SWEEP_INTERVAL_MS = 10_000;

interface ServerFlow {
  socket: DatagramSocket;
}

/** What {@linkcode serveUdpFlows} needs besides the connection. */
export interface UdpServeOptions {
  log: TunnelLog;
  label: string;
  /** Summarises alike warnings across sessions. */
  warnings: RepeatedLines;
  /** Flows of every session of the process (this client's view); a new flow needs a slot. */
  processFlows: PoolSlots;
  /** Opens the socket of each flow. */
  dialer: Dialer;
  idleMs?: number;
  /** The session's live counters. */
  stats?: SessionStats;
}

/**
 * Relays UDP between the client and `target` until the connection ends.
 * @returns bytes sent to and received from the client.
 */
export async function serveUdpFlows(
  conn: PeerConnection,
  control: FramedStream,
  target: { address: string; port: number },
  options: UdpServeOptions,
): Promise<{ sent: number; received: number }> {
  const totals = { sent: 0, received: 0 };
  const sender = new UdpSender(conn, control);
  const idleMs = options.idleMs ?? UDP_FLOW_IDLE_MS;
  const targetAddr: DatagramAddr = { hostname: target.address, port: target.port };
  const targetHost = canonicalHost(target.address);
  // Room for the largest reply from the first one on, without 64 KiB of memory per idle flow.
  const slots = new UdpReceiveSlots(MAX_UDP_FLOWS);

  const flows = new UdpFlowTable<ServerFlow>({
    // One policy on both sides: at the session's limit the least recently
    // active flow makes room.
    onClose: ({ value }) => {
      options.processFlows.release();
      try {
        value.socket.close();
      } catch { /* already closed */ }
    },
  });
  options.stats?.countUdpFlows(() => flows.size);

  const openFlow = (id: number): UdpFlow<ServerFlow> | undefined => {
    if (!options.processFlows.tryAcquire()) {
      options.warnings.report(
        "udp-process-flows",
        `[${options.label}] the server's UDP flows are at their ${options.processFlows.limitReached()}; dropping new flows`,
      );
      return undefined;
    }
    let socket: DatagramSocket;
    try {
      socket = options.dialer.bindUdp(target.address);
    } catch (error) {
      options.processFlows.release();
      options.warnings.report(
        "udp-socket",
        `[${options.label}] cannot open a UDP socket for a new flow: ${(error as Error).message}`,
      );
      return undefined;
    }
    const flow = flows.add(id, { socket }, Date.now());
    (async () => {
      // Held until the receive ends: the socket is closed by then, so nothing
      // writes into the slot once the next flow has it.
      const buffer = slots.take();
      try {
        for (;;) {
          const [data, addr] = await socket.receive(buffer);
          // Only the service answers through this flow; anything else that found
          // the ephemeral port is dropped.
          if (addr.port !== target.port || canonicalHost(addr.hostname) !== targetHost) continue;
          flow.lastActive = Date.now();
          totals.sent += data.length;
          if (options.stats) options.stats.sent += data.length;
          // Copied before the next receive: the slot is reused at once.
          sender.send(id, data);
        }
      } catch {
        flows.remove(flow);
      } finally {
        slots.give(buffer);
      }
    })();
    return flow;
  };

  const sweeper = setInterval(
    () => flows.expire(Date.now(), idleMs),
    Math.min(SWEEP_INTERVAL_MS, idleMs),
  );

  try {
    await receiveUdpPayloads(conn, control, async (flowId, payload) => {
      const flow = flows.get(flowId, Date.now()) ?? openFlow(flowId);
      if (!flow) return;
      totals.received += payload.length;
      if (options.stats) options.stats.received += payload.length;
      try {
        await flow.value.socket.send(payload, targetAddr);
      } catch (error) {
        options.log.debug(`[${options.label}] UDP send failed: ${(error as Error).message}`);
      }
    });
  } catch (error) {
    options.log.debug(`[${options.label}] UDP session ended: ${(error as Error).message}`);
  } finally {
    clearInterval(sweeper);
    flows.clear();
    if (sender.dropped["queue-full"] > 0) {
      options.log.debug(
        `[${options.label}] ${
          sender.dropped["queue-full"]
        } UDP replies dropped: the tunnel did not keep up`,
      );
    }
    conn.close();
  }
  return totals;
}

/** The host as compared: IPv4-mapped IPv6 as IPv4, lowercase. */
function canonicalHost(host: string): string {
  // Most replies come as plain IPv4: skip the string work for them.
  return host.includes(":") ? host.replace(/^::ffff:/i, "").toLowerCase() : host;
}
