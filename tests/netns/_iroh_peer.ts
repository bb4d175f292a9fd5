// An iroh endpoint (official JS bindings) whose only relay is RELAY_URL, with no
// discovery at all (minimal preset: no n0 DNS, no pkarr, no public relays).
//
//   deno run --allow-ffi --allow-env=IROH_PEER_LOG _iroh_peer.ts accept RELAY_URL [SEED_HEX]
//     prints "endpoint <id>" once its home relay is up, accepts one connection and
//     echoes one bidirectional stream, then prints a JSON report and exits. SEED_HEX (32
//     bytes) fixes its key, so a test can sign its discovery record.
//   deno run --allow-ffi --allow-env=IROH_PEER_LOG _iroh_peer.ts connect RELAY_URL ENDPOINT_ID BYTES
//     dials ENDPOINT_ID at RELAY_URL only, sends BYTES random bytes, reads the echo,
//     then prints a JSON report with both SHA-256 digests and exits.
//   ... _iroh_peer.ts connect-by-dns RELAY_URL ENDPOINT_ID BYTES
//     the same, but with iroh's n0 preset (its home relay still RELAY_URL) and the
//     EndpointId alone: iroh finds the way in `_iroh.<z32>.dns.iroh.link` TXT, asked
//     of the system resolver (in a namespace, /etc/netns/<ns>/resolv.conf).
//
// Report: {"role", "self", "remote", "incomingVia"?, "sent"?, "received", "bytes", "ms", "paths"}
// where `paths` is every path the connection listed while it lived (polled), so the test
// can tell a relayed connection from a direct one. Exits 1 with a message on any failure
// or after DEADLINE_MS. IROH_PEER_LOG=Debug (or Trace, Info, ...) prints iroh's own log.
import { createHash } from "node:crypto";
import { type IrohConnection, type IrohEndpoint, loadIroh } from "./_iroh_bindings.ts";

const ALPN = Array.from(new TextEncoder().encode("tunnel/iroh-interop/0"));
// Whole run, home relay included; the test's own timeout is longer so this fires first.
const DEADLINE_MS = 45_000;
// Bytes handed to the bindings per call: each crosses as a JS array of numbers, so
// moderate chunks keep memory flat without paying per-call overhead too often.
const CHUNK = 32 * 1024;

const iroh = loadIroh();
const level = Deno.env.get("IROH_PEER_LOG");
if (level) iroh.setLogLevel(level as "Debug");

const [role, relayUrl, endpointId, bytes] = Deno.args;
setTimeout(() => fail(`no result after ${DEADLINE_MS} ms`), DEADLINE_MS);

const builder = iroh.Endpoint.builder();
if (role === "connect-by-dns") iroh.presetN0(builder);
else iroh.presetMinimal(builder);
if (role === "accept" && endpointId) {
  builder.secretKey(endpointId.match(/../g)!.map((byte) => parseInt(byte, 16)));
}
builder.alpns([ALPN]);
builder.relayMode(iroh.RelayMode.customFromUrls([relayUrl]));
const endpoint = await builder.bind();
try {
  await endpoint.online();
  if (role === "accept") await accept(endpoint);
  else if (role === "connect") await connect(endpoint, endpointId, Number(bytes));
  else if (role === "connect-by-dns") await connect(endpoint, endpointId, Number(bytes), false);
  else fail(`unknown role ${role}`);
} catch (error) {
  fail(error instanceof Error ? error.stack ?? error.message : String(error));
} finally {
  await endpoint.close();
}
Deno.exit(0);

async function accept(endpoint: IrohEndpoint): Promise<void> {
  console.log(`endpoint ${endpoint.id()}`);
  const incoming = await endpoint.acceptNext();
  if (!incoming) throw new Error("endpoint closed before a connection came");
  const incomingVia = (await incoming.remoteAddr()).kind;
  const conn = await (await incoming.accept()).connect();
  const paths = watchPaths(conn);
  const started = performance.now();
  const { send, recv } = await conn.acceptBi();
  const digest = createHash("sha256");
  let total = 0;
  for (;;) {
    const chunk = await recv.read(CHUNK);
    if (chunk.length === 0) break;
    digest.update(Uint8Array.from(chunk));
    total += chunk.length;
    await send.writeAll(chunk);
  }
  await send.finish();
  // The dialer closes once it has read the whole echo.
  await conn.closed();
  report({
    role,
    self: String(endpoint.id()),
    remote: String(conn.remoteId()),
    incomingVia,
    received: digest.digest("hex"),
    bytes: total,
    ms: performance.now() - started,
    paths: paths(),
  });
}

async function connect(
  endpoint: IrohEndpoint,
  id: string,
  size: number,
  relayKnown = true,
): Promise<void> {
  const remote = iroh.EndpointId.fromString(id);
  // Without the relay, the EndpointId alone: iroh's discovery has to find the way.
  const addr = relayKnown
    ? new iroh.EndpointAddr(remote, relayUrl, [])
    : new iroh.EndpointAddr(remote, undefined, []);
  const conn = await endpoint.connect(addr, ALPN);
  const paths = watchPaths(conn);
  const started = performance.now();
  const { send, recv } = await conn.openBi();
  const payload = new Uint8Array(size);
  // getRandomValues fills at most 64 KiB per call.
  for (let at = 0; at < size; at += 65_536) {
    crypto.getRandomValues(payload.subarray(at, at + 65_536));
  }
  const writing = (async () => {
    for (let at = 0; at < size; at += CHUNK) {
      await send.writeAll(Array.from(payload.subarray(at, at + CHUNK)));
    }
    await send.finish();
  })();
  const echo = createHash("sha256");
  let total = 0;
  for (;;) {
    const chunk = await recv.read(CHUNK);
    if (chunk.length === 0) break;
    echo.update(Uint8Array.from(chunk));
    total += chunk.length;
  }
  await writing;
  const ms = performance.now() - started;
  const seen = paths();
  conn.close(0n, []);
  report({
    role,
    self: String(endpoint.id()),
    remote: String(conn.remoteId()),
    sent: createHash("sha256").update(payload).digest("hex"),
    received: echo.digest("hex"),
    bytes: total,
    ms,
    paths: seen,
  });
}

// Polls the connection's paths while it lives: a direct path that opened and closed
// again between two looks at the end would otherwise go unnoticed.
function watchPaths(conn: IrohConnection): () => PathSeen[] {
  const seen = new Map<string, PathSeen>();
  const look = () => {
    for (const p of conn.paths()) {
      const kind = p.isRelay ? "relay" : p.isIp ? "ip" : "other";
      const key = `${kind} ${p.remoteAddr}`;
      const entry = seen.get(key) ?? { kind, addr: p.remoteAddr, selected: false, rx: 0 };
      entry.selected ||= p.isSelected;
      entry.rx = Math.max(entry.rx, p.stats.udpRxDatagrams);
      seen.set(key, entry);
    }
  };
  look();
  const timer = setInterval(look, 50);
  return () => {
    look();
    clearInterval(timer);
    return [...seen.values()];
  };
}

interface PathSeen {
  kind: "relay" | "ip" | "other";
  addr: string;
  /** Was the selected path at one of the looks. */
  selected: boolean;
  /** Most datagrams received over it at one look. */
  rx: number;
}

function report(value: Record<string, unknown>): void {
  console.log(JSON.stringify(value));
}

function fail(message: string): never {
  console.error(`iroh peer (${role}): ${message}`);
  Deno.exit(1);
}
