// In-memory servers for session tests: a server session on one end of a memory
// connection pair, whose way out (the Dialer) echoes instead of reaching the network.
import { AsyncQueue, memoryConnectionPair, type PeerConnection } from "../transport/mod.ts";
import { AllowList } from "./allow_list.ts";
import type { ByteConn, DatagramAddr, DatagramSocket, Dialer } from "./dialer.ts";
import { silentLog } from "./log.ts";
import {
  type ForwardingOptions,
  forwardingServices,
  serveConnection,
  type ServerSessionOptions,
} from "./server_session.ts";
import { SessionLimiter } from "./session_limiter.ts";

/** The token the test servers accept. */
export const TOKEN = new TextEncoder().encode("iToken");
/** Bytes as text. */
export const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A TCP service in memory: echoes what it reads; `refuse` makes dials fail. */
export function echoDialer(options: { refuse?: boolean } = {}) {
  const dialed: string[] = [];
  const sockets: FakeUdpSocket[] = [];
  const dialer: Dialer = {
    connectTcp(hostname, port) {
      dialed.push(`${hostname}:${port}`);
      if (options.refuse) return Promise.reject(new Deno.errors.ConnectionRefused("refused"));
      return Promise.resolve(new EchoConn());
    },
    bindUdp() {
      const socket = new FakeUdpSocket();
      sockets.push(socket);
      return socket;
    },
  };
  return { dialer, dialed, sockets };
}

/** Echoes writes back to reads; closeWrite ends the reads after what was written. */
class EchoConn implements ByteConn {
  #chunks = new AsyncQueue<Uint8Array>();
  read(buffer: Uint8Array): Promise<number | null> {
    return this.#chunks.shift().then((chunk) => {
      if (!chunk) return null;
      buffer.set(chunk);
      return chunk.length;
    });
  }
  write(data: Uint8Array): Promise<number> {
    this.#chunks.push(data.slice());
    return Promise.resolve(data.length);
  }
  closeWrite(): Promise<void> {
    this.#chunks.end();
    return Promise.resolve();
  }
  close(): void {
    this.#chunks.end();
  }
}

/** A UDP socket whose service echoes each datagram back from the target. */
export class FakeUdpSocket implements DatagramSocket {
  readonly #replies = new AsyncQueue<[Uint8Array, DatagramAddr]>();
  closed = false;
  receive(buffer: Uint8Array): Promise<[Uint8Array, DatagramAddr]> {
    return this.#replies.shift().then((reply) => {
      if (!reply) throw new Deno.errors.BadResource("closed");
      buffer.set(reply[0]);
      return [buffer.subarray(0, reply[0].length), reply[1]];
    });
  }
  send(data: Uint8Array, to: DatagramAddr): Promise<number> {
    this.#replies.push([data.slice(), to]);
    return Promise.resolve(data.length);
  }
  close(): void {
    this.closed = true;
    this.#replies.end();
  }
}

export function serverOptions(
  dialer: Dialer,
  extra: Partial<ServerSessionOptions> = {},
  forwarding: Partial<ForwardingOptions> = {},
) {
  return {
    authenticate: (credential: Uint8Array) => text(credential) === text(TOKEN),
    services: forwardingServices({
      allowedTcp: new AllowList(["127.0.0.0/8"]),
      allowedUdp: new AllowList(["127.0.0.0/8"]),
      resolve: (host: string) => Promise.resolve([host]),
      dialer,
      ...forwarding,
    }),
    sessions: new SessionLimiter(4),
    log: silentLog,
    label: "test",
    ...extra,
  };
}

/** Runs a server session on one end of a memory pair; returns the client's end. */
export function connect(
  options: ServerSessionOptions,
): { client: PeerConnection; served: Promise<void> } {
  const [client, server] = memoryConnectionPair();
  return { client, served: serveConnection(server, options) };
}
