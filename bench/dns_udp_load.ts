/**
 * DNS over UDP load from one source address: a socket bound to that address
 * keeps up to a window of queries outstanding, matches answers by id, and
 * counts each query as its answer's rcode or as `lost` when none came in
 * time (the relay drops queries over a source's rate without a word).
 * @module
 */
import { DNS_CLASS_IN, DNS_TYPE_TXT, encodeDnsMessage } from "../core/discovery/mod.ts";
import type { LoadLane } from "./load_lanes.ts";

/** The queries of one source. */
export interface DnsSourceTask {
  /** Local address to send from. */
  localAddress: string;
  /** Names to ask TXT for, in order (may be lazy: the lane stops at the deadline). */
  names: Iterable<string>;
}

/** Options of {@linkcode dnsUdpSourceRunner}. */
export interface DnsUdpLoadOptions {
  /** Server address. */
  host: string;
  /** Server port. */
  port: number;
  /** Queries outstanding at once per source. Default 8. */
  window?: number;
  /** How long an unanswered query waits before it counts as `lost`, ms. Default 1,000. */
  lostAfterMs?: number;
}

const RCODES: Record<number, string> = { 0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED" };

/**
 * A TXT query for `name` with `id`, recursion not asked (the relay is authoritative).
 * @example
 * ```ts
 * dnsTxtQuery(7, "_iroh.example.dns.test")[1]; // 7
 * ```
 */
export function dnsTxtQuery(id: number, name: string): Uint8Array {
  return encodeDnsMessage({
    id,
    flags: 0,
    questions: [{ name, type: DNS_TYPE_TXT, class: DNS_CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  }, 512);
}

/**
 * The outcome of an answer: its rcode's name, or `NOERROR` without answers as
 * `NODATA`; `undefined` for a datagram too short to be a DNS message.
 */
export function dnsOutcome(answer: Uint8Array): { id: number; outcome: string } | undefined {
  if (answer.length < 12) return undefined;
  const id = (answer[0] << 8) | answer[1];
  const rcode = answer[3] & 0x0f;
  const answers = (answer[6] << 8) | answer[7];
  const outcome = rcode === 0 && answers === 0 ? "NODATA" : RCODES[rcode] ?? `rcode ${rcode}`;
  return { id, outcome };
}

/**
 * The task runner for {@linkcode runLanes}: one UDP socket per task, bound to
 * its source address.
 */
export function dnsUdpSourceRunner(
  options: DnsUdpLoadOptions,
): (task: DnsSourceTask, lane: LoadLane) => Promise<void> {
  const window = options.window ?? 8;
  const lostAfterMs = options.lostAfterMs ?? 1_000;
  const server = { transport: "udp" as const, hostname: options.host, port: options.port };
  return async (task, lane) => {
    const socket = Deno.listenDatagram({ transport: "udp", hostname: task.localAddress, port: 0 });
    const pending = new Map<
      number,
      { sentAt: number; settle: () => void; timer: ReturnType<typeof setTimeout> }
    >();
    const settle = (id: number, outcome: string) => {
      const query = pending.get(id);
      if (!query) return;
      pending.delete(id);
      clearTimeout(query.timer);
      lane.record(outcome, performance.now() - query.sentAt);
      query.settle();
    };
    const receiving = (async () => {
      for (;;) {
        let datagram: Uint8Array;
        try {
          [datagram] = await socket.receive();
        } catch {
          return; // closed
        }
        const answer = dnsOutcome(datagram);
        if (answer) settle(answer.id, answer.outcome);
      }
    })();
    let nextId = 0;
    const inFlight = new Set<Promise<void>>();
    try {
      for (const name of task.names) {
        if (lane.expired()) break;
        while (inFlight.size >= window) await Promise.race(inFlight);
        const id = nextId++ & 0xffff;
        const done = new Promise<void>((resolve) => {
          const timer = setTimeout(() => settle(id, "lost"), lostAfterMs);
          pending.set(id, { sentAt: performance.now(), settle: resolve, timer });
        });
        const tracked = done.then(() => {
          inFlight.delete(tracked);
        });
        inFlight.add(tracked);
        await socket.send(dnsTxtQuery(id, name), server);
      }
      await Promise.all(inFlight);
    } finally {
      for (const id of [...pending.keys()]) settle(id, "lost");
      socket.close();
      await receiving;
    }
  };
}
