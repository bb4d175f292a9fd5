/**
 * UDP request/answer exchanges with the gateway: retransmission, a deadline, and the
 * rule that only well-formed answers from the expected address and port count.
 * @module
 */
import { GatewayRefusal, PortMapError } from "./errors.ts";

/** An address and port. */
export interface Endpoint {
  /** IPv4 address text. */
  hostname: string;
  /** UDP or TCP port. */
  port: number;
}

/** A UDP socket as the clients need it; tests put in-memory fakes behind it. */
export interface DatagramSocket {
  /** Sends one datagram. */
  send(data: Uint8Array, to: Endpoint): Promise<void>;
  /** The next datagram, cut to `maxBytes + 1` bytes so oversize ones are seen as such. */
  receive(maxBytes: number): Promise<{ data: Uint8Array; from: Endpoint }>;
  /** Closes the socket; a pending receive rejects. */
  close(): void;
}

/** Opens a socket bound to an ephemeral port on all IPv4 addresses. */
export type OpenDatagramSocket = () => DatagramSocket;

/** The real socket (needs --unstable-net for Deno.listenDatagram). */
export const openUdpSocket: OpenDatagramSocket = (): DatagramSocket => {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  return {
    send: async (data, to) => {
      await conn.send(data, { transport: "udp", ...to });
    },
    receive: async (maxBytes) => {
      const [data, from] = await conn.receive(new Uint8Array(maxBytes + 1));
      const addr = from as Deno.NetAddr;
      return { data, from: { hostname: addr.hostname, port: addr.port } };
    },
    close: () => {
      try {
        conn.close();
      } catch { /* closed already */ }
    },
  };
};

/** One exchange: what to send where, and how to read an answer. */
export interface Exchange<T> {
  socket: DatagramSocket;
  request: Uint8Array;
  to: Endpoint;
  /** Answers from anywhere else are ignored. */
  from: Endpoint;
  maxBytes: number;
  /** Decodes an answer; a {@link PortMapError} means "ignore it", a {@link GatewayRefusal} ends. */
  accept(data: Uint8Array): T;
  signal: AbortSignal;
  /** One line per ignored answer. */
  onIgnored(line: string): void;
  /** Retransmission delays after the first send (RFC 6886: 250 ms, doubling). */
  retransmitMs?: readonly number[];
  /** Most answers looked at before giving up (a flood cannot keep us busy). */
  maxAnswers?: number;
  what: string;
}

/** Sends, retransmits, and returns the first good answer; throws on refusal or deadline. */
export async function exchange<T>(x: Exchange<T>): Promise<T> {
  const delays = x.retransmitMs ?? [250, 500, 1000, 2000];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const aborted = new Promise<never>((_, reject) => {
    const fail = () =>
      reject(new PortMapError(`${x.what}: no answer from ${x.to.hostname}:${x.to.port} in time`));
    if (x.signal.aborted) fail();
    x.signal.addEventListener("abort", fail, { once: true });
  });
  aborted.catch(() => {});
  const resend = (i: number) => {
    x.socket.send(x.request, x.to).catch(() => {});
    if (i < delays.length) timer = setTimeout(() => resend(i + 1), delays[i]);
  };
  resend(0);
  try {
    const limit = x.maxAnswers ?? 64;
    for (let seen = 0; seen < limit; seen++) {
      const { data, from } = await Promise.race([x.socket.receive(x.maxBytes), aborted]);
      if (from.hostname !== x.from.hostname || from.port !== x.from.port) {
        x.onIgnored(
          `${x.what}: ignored an answer from ${from.hostname}:${from.port}, not the gateway ${x.from.hostname}:${x.from.port}`,
        );
        continue;
      }
      try {
        return x.accept(data);
      } catch (error) {
        if (error instanceof GatewayRefusal || !(error instanceof PortMapError)) throw error;
        x.onIgnored(`${x.what}: ignored an answer: ${error.message}`);
      }
    }
    throw new PortMapError(`${x.what}: ${limit} bad answers, giving up`);
  } finally {
    clearTimeout(timer);
  }
}
