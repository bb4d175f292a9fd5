/**
 * The smallest TCP forwarder over Deno's QUIC: the ceiling the tunnel is measured
 * against. No tunnel logic (no session, header, auth or stats): one QUIC connection,
 * and per TCP connection one bidirectional stream piped both ways with one reused
 * buffer per direction. Two processes, as the tunnel runs:
 *
 *     deno run --unstable-net --allow-net bench/_bare_quic.ts server TARGET_PORT [HOST]
 *       -> "bare-quic server PORT ENDPOINT_ID"
 *     deno run --unstable-net --allow-net bench/_bare_quic.ts client SERVER_PORT ENDPOINT_ID [HOST]
 *       -> "bare-quic client PORT"
 *
 * HOST (default 127.0.0.1): the server binds it and forwards to HOST:TARGET_PORT; the
 * client dials the server there. The client always listens on 127.0.0.1.
 *
 * The server pins its certificate to a fresh Ed25519 key and uses the project's
 * QUIC transport options, as `core/transport/quic.ts` does.
 *
 * @module
 */
import {
  EndpointId,
  SecretKey,
  serverCredentials,
  serverNameFor,
  trustAnchorFor,
} from "../core/identity/mod.ts";
import { IDLE_TIMEOUT_MS, KEEP_ALIVE_MS } from "../core/transport/quic.ts";

const ALPN = "bare-quic-bench";
// The tunnel's values (core/transport/quic.ts), so only the tunnel logic differs.
const TRANSPORT_OPTIONS = {
  keepAliveInterval: KEEP_ALIVE_MS,
  maxIdleTimeout: IDLE_TIMEOUT_MS,
  maxConcurrentBidirectionalStreams: 1024,
  maxConcurrentUnidirectionalStreams: 0,
} as const;
/**
 * Bytes per read in each direction. 64 KiB is the tunnel's chunk (core/tunnel/
 * tcp_pipe.ts), so the ceiling and the tunnel copy alike; 256 KiB and 1 MiB moved
 * the same within noise (iperf3, loopback, 2 cores: 371-445 MB/s for all three).
 */
const CHUNK_SIZE = 64 * 1024;

interface Duplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** TCP into the stream until EOF, then FIN; one buffer reused after each write resolves. */
async function tcpToStream(tcp: Deno.TcpConn, stream: Duplex): Promise<void> {
  const writer = stream.writable.getWriter();
  const buffer = new Uint8Array(CHUNK_SIZE);
  try {
    for (;;) {
      const n = await tcp.read(buffer);
      if (n === null) break;
      await writer.write(buffer.subarray(0, n));
    }
    await writer.close();
  } catch {
    writer.abort().catch(() => {});
  }
}

/** The stream into TCP until FIN, then TCP half-close; BYOB reads into one buffer. */
async function streamToTcp(stream: Duplex, tcp: Deno.TcpConn): Promise<void> {
  const reader = stream.readable.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(CHUNK_SIZE);
  try {
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || !value) break;
      for (let off = 0; off < value.length;) off += await tcp.write(value.subarray(off));
      buffer = value.buffer as ArrayBuffer;
    }
    await tcp.closeWrite();
  } catch {
    reader.cancel().catch(() => {});
  }
}

async function pipe(tcp: Deno.TcpConn, stream: Duplex): Promise<void> {
  await Promise.all([tcpToStream(tcp, stream), streamToTcp(stream, tcp)]);
  try {
    tcp.close();
  } catch { /* already closed */ }
}

async function server(targetPort: number, host: string): Promise<void> {
  const key = SecretKey.generate();
  const endpoint = new Deno.QuicEndpoint({ hostname: host, port: 0 });
  const listener = endpoint.listen({
    ...serverCredentials(key),
    alpnProtocols: [ALPN],
    ...TRANSPORT_OPTIONS,
  });
  console.log(`bare-quic server ${endpoint.addr.port} ${key.endpointId}`);
  for await (const incoming of listener) {
    (async () => {
      const conn = await incoming.accept();
      for await (const stream of conn.incomingBidirectionalStreams) {
        Deno.connect({ hostname: host, port: targetPort }).then(
          (tcp) => pipe(tcp, stream),
          () => stream.writable.abort().catch(() => {}),
        );
      }
    })().catch(() => {});
  }
}

async function client(serverPort: number, endpointId: EndpointId, host: string): Promise<void> {
  const conn = await Deno.connectQuic({
    hostname: host,
    port: serverPort,
    serverName: serverNameFor(endpointId),
    caCerts: [trustAnchorFor(endpointId)],
    alpnProtocols: [ALPN],
    ...TRANSPORT_OPTIONS,
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`bare-quic client ${listener.addr.port}`);
  for await (const tcp of listener) {
    conn.createBidirectionalStream({ waitUntilAvailable: true }).then(
      (stream) => pipe(tcp, stream),
      () => tcp.close(),
    );
  }
}

if (import.meta.main) {
  const [mode, port, ...rest] = Deno.args;
  const portNumber = Number(port);
  if (mode === "server" && Number.isInteger(portNumber) && rest.length <= 1) {
    await server(portNumber, rest[0] ?? "127.0.0.1");
  } else if (mode === "client" && Number.isInteger(portNumber) && rest[0] && rest.length <= 2) {
    await client(portNumber, EndpointId.parse(rest[0]), rest[1] ?? "127.0.0.1");
  } else {
    console.error(
      "Usage: _bare_quic.ts server TARGET_PORT [HOST] | client SERVER_PORT ENDPOINT_ID [HOST]",
    );
    Deno.exit(2);
  }
}
