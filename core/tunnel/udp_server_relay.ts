/**
 * The server's UDP side of a session: one upstream socket per client flow, so the
 * service sees each client peer as its own address and replies find their way back.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import type { DatagramAddr, DatagramSocket, Dialer } from "./dialer.ts";
import type { FramedStream } from "./framed_stream.ts";
import type { TunnelLog } from "./log.ts";
import type { RepeatedLines } from "./repeated_lines.ts";
import type { PoolSlots } from "./session_limiter.ts";
import { receiveUdpPayloads } from "./udp_receiver.ts";
import { UDP_FLOW_IDLE_MS, type UdpFlow, UdpFlowTable } from "./udp_flows.ts";
import { UdpSender } from "./udp_sender.ts";
import type { SessionStats } from "./session_stats.ts";

/**
 * A flow's first receive buffer: room for any datagram that fits an Ethernet
 * MTU and for DNS replies up to EDNS's common 4,096 bytes, which is nearly all
 * UDP traffic (DNS, QUIC, WireGuard, games). Holding 64 KiB per idle flow cost
 * 64 MiB per 1,000 flows.
 */
const INITIAL_RECEIVE_BUFFER = 4_097;
/** Largest UDP datagram plus one, so a full-size one is never mistaken for a truncated one. */
const MAX_RECEIVE_BUFFER = 65_536;
/** How often idle flows are looked for. */
const SWEEP_INTERVAL_MS = 10_000;

interface ServerFlow {
  socket: DatagramSocket;
  /** Size of the buffer the next receive uses; grows, never shrinks. */
  bufferSize: number;
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
    const state: ServerFlow = { socket, bufferSize: INITIAL_RECEIVE_BUFFER };
    const flow = flows.add(id, state, Date.now());
    (async () => {
      let buffer = new Uint8Array(state.bufferSize);
      try {
        for (;;) {
          if (buffer.length < state.bufferSize) buffer = new Uint8Array(state.bufferSize);
          const [data, addr] = await socket.receive(buffer);
          // Only the service answers through this flow; anything else that found
          // the ephemeral port is dropped.
          if (addr.port !== target.port || canonicalHost(addr.hostname) !== targetHost) continue;
          flow.lastActive = Date.now();
          if (data.length === buffer.length && buffer.length < MAX_RECEIVE_BUFFER) {
            // A datagram that fills the buffer may have been cut short: never
            // forward a truncated one. Later replies get room for any size.
            state.bufferSize = MAX_RECEIVE_BUFFER;
            options.warnings.report(
              "udp-truncated",
              `[${options.label}] dropped a UDP reply larger than ${buffer.length} bytes; this flow now takes up to 64 KiB`,
            );
            continue;
          }
          totals.sent += data.length;
          if (options.stats) options.stats.sent += data.length;
          sender.send(id, data);
        }
      } catch {
        flows.remove(flow);
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
      // A request this large usually gets a reply as large: make room first.
      if (payload.length >= flow.value.bufferSize) flow.value.bufferSize = MAX_RECEIVE_BUFFER;
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
