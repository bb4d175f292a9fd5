/**
 * Minimal reproduction, for Deno: a QUIC receiver loses datagrams whenever its
 * JavaScript is busy for a few milliseconds, because quinn reads the UDP socket
 * on the same thread and the socket keeps the kernel's default receive buffer
 * (Deno offers no way to size it). No tunnel code: a Deno QUIC listener that
 * reads one stream and discards it, and which every 20 ms runs JavaScript for
 * STALL_MS without yielding, as any program that does some work will.
 *
 *     deno run -A --unstable-net bench/_quic_starved_socket.ts [STALL_MS ...]   (default: 0 2 5 10)
 *
 * (`-A`: Deno lets nothing less read /proc.)
 *
 * For each STALL_MS it prints the MB/s of 64 MB sent over loopback and the UDP
 * datagrams the kernel dropped for a full receive buffer meanwhile (`RcvbufErrors`
 * of /proc/net/snmp: machine-wide, so other UDP traffic would add to it).
 * @module
 */
import {
  EndpointId,
  SecretKey,
  serverCredentials,
  serverNameFor,
  trustAnchorFor,
} from "../core/identity/mod.ts";

const ALPN = "starved-socket";
const BYTES = 64 << 20;
const CHUNK = 64 << 10;

async function rcvbufErrors(): Promise<number> {
  const lines = (await Deno.readTextFile("/proc/net/snmp")).split("\n")
    .filter((line) => line.startsWith("Udp: "));
  const at = lines[0].split(/\s+/).indexOf("RcvbufErrors");
  return Number(lines[1].split(/\s+/)[at]);
}

/** The receiver: prints "PORT ID", then reads one stream to its end, stalling as told. */
async function receive(stallMs: number): Promise<void> {
  const key = SecretKey.generate();
  const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = endpoint.listen({ alpnProtocols: [ALPN], ...serverCredentials(key) });
  console.log(`${endpoint.addr.port} ${key.endpointId.toString()}`);
  const stall = setInterval(() => {
    const until = performance.now() + stallMs;
    while (performance.now() < until) { /* JavaScript at work */ }
  }, 20);
  const conn = await listener.accept();
  const stream = await conn.incomingBidirectionalStreams.getReader().read();
  for await (const _ of stream.value!.readable) { /* discard */ }
  clearInterval(stall);
  conn.close();
  endpoint.close();
}

/** The sender: 64 MB on one stream to the receiver; resolves with the seconds it took. */
async function send(port: number, id: EndpointId): Promise<number> {
  const conn = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port,
    alpnProtocols: [ALPN],
    serverName: serverNameFor(id),
    caCerts: [trustAnchorFor(id)],
    // BBR, as the tunnel uses toward networks: it does not back off from the drops.
    congestionControl: "low-latency",
  });
  const started = performance.now();
  const stream = await conn.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  const chunk = new Uint8Array(CHUNK);
  for (let sent = 0; sent < BYTES; sent += CHUNK) await writer.write(chunk);
  await writer.close();
  await conn.closed.catch(() => {});
  return (performance.now() - started) / 1000;
}

if (Deno.args[0] === "receive") {
  await receive(Number(Deno.args[1]));
} else {
  const stalls = Deno.args.length ? Deno.args.map(Number) : [0, 2, 5, 10];
  for (const stallMs of stalls) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-net",
        "--allow-net",
        import.meta.filename!,
        "receive",
        `${stallMs}`,
      ],
      stdout: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const [port, id] = (await reader.read()).value!.trim().split(" ");
    const before = await rcvbufErrors();
    const seconds = await send(Number(port), EndpointId.parse(id));
    const dropped = (await rcvbufErrors()) - before;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.status;
    console.log(
      `stall ${stallMs} ms every 20 ms: ${(BYTES / 1e6 / seconds).toFixed(1)} MB/s, ` +
        `${dropped} datagrams dropped at the receiver's socket`,
    );
  }
}
