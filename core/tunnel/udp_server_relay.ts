/**
 * The server's UDP side of a session: one upstream socket per client flow, so the
 * service sees each client peer as its own address and replies find their way back.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import type { FramedStream } from "./framed_stream.ts";
import type { TunnelLog } from "./log.ts";
import { receiveUdpPayloads } from "./udp_receiver.ts";
import { MAX_UDP_FLOWS, UDP_FLOW_IDLE_MS } from "./udp_flows.ts";
import { UdpSender } from "./udp_sender.ts";

/** Largest UDP datagram plus one, so an oversized one is seen as such. */
const RECEIVE_BUFFER = 65_536;
/** How often idle flows are looked for. */
const SWEEP_INTERVAL_MS = 10_000;

interface ServerFlow {
  socket: Deno.DatagramConn;
  lastActive: number;
}

/**
 * Relays UDP between the client and `target` until the connection ends.
 * @returns bytes sent to and received from the client.
 */
export async function serveUdpFlows(
  conn: PeerConnection,
  control: FramedStream,
  target: { address: string; port: number },
  options: { log: TunnelLog; label: string; idleMs?: number },
): Promise<{ sent: number; received: number }> {
  const totals = { sent: 0, received: 0 };
  const flows = new Map<number, ServerFlow>();
  const sender = new UdpSender(conn, control);
  const idleMs = options.idleMs ?? UDP_FLOW_IDLE_MS;
  const targetAddr: Deno.NetAddr = {
    transport: "udp",
    hostname: target.address,
    port: target.port,
  };
  const bindHost = target.address.includes(":") ? "::" : "0.0.0.0";
  const targetHost = canonicalHost(target.address);

  const closeFlow = (id: number) => {
    const flow = flows.get(id);
    if (!flow) return;
    flows.delete(id);
    try {
      flow.socket.close();
    } catch { /* already closed */ }
  };

  const openFlow = (id: number): ServerFlow | undefined => {
    if (flows.size >= MAX_UDP_FLOWS) {
      options.log.warn(`[${options.label}] UDP flow limit (${MAX_UDP_FLOWS}) reached; dropping`);
      return undefined;
    }
    const socket = Deno.listenDatagram({ transport: "udp", hostname: bindHost, port: 0 });
    const flow = { socket, lastActive: Date.now() };
    flows.set(id, flow);
    (async () => {
      const buffer = new Uint8Array(RECEIVE_BUFFER);
      try {
        for (;;) {
          const [data, from] = await socket.receive(buffer);
          const addr = from as Deno.NetAddr;
          // Only the service answers through this flow; anything else that found
          // the ephemeral port is dropped.
          if (addr.port !== target.port || canonicalHost(addr.hostname) !== targetHost) continue;
          flow.lastActive = Date.now();
          totals.sent += data.length;
          await sender.send(id, data);
        }
      } catch {
        closeFlow(id);
      }
    })();
    return flow;
  };

  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [id, flow] of flows) if (now - flow.lastActive > idleMs) closeFlow(id);
  }, Math.min(SWEEP_INTERVAL_MS, idleMs));

  try {
    await receiveUdpPayloads(conn, control, async (flowId, payload) => {
      const flow = flows.get(flowId) ?? openFlow(flowId);
      if (!flow) return;
      flow.lastActive = Date.now();
      totals.received += payload.length;
      try {
        await flow.socket.send(payload, targetAddr);
      } catch (error) {
        options.log.debug(`[${options.label}] UDP send failed: ${(error as Error).message}`);
      }
    });
  } catch (error) {
    options.log.debug(`[${options.label}] UDP session ended: ${(error as Error).message}`);
  } finally {
    clearInterval(sweeper);
    for (const id of [...flows.keys()]) closeFlow(id);
    conn.close();
  }
  return totals;
}

/** The host as compared: IPv4-mapped IPv6 as IPv4, lowercase. */
function canonicalHost(host: string): string {
  // Most replies come as plain IPv4: skip the string work for them.
  return host.includes(":") ? host.replace(/^::ffff:/i, "").toLowerCase() : host;
}
