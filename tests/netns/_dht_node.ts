// One node of the bed's private Mainline DHT: npm bittorrent-dht 11.0.12, an
// implementation independent of ours, storing BEP 44 items it verifies with libsodium
// (sodium-native, through npm pkarr). Driven over stdin, one command a line:
//
//   deno run --config deno.test.json -A _dht_node.ts BIND_IP:PORT [PEER_IP:PORT...]
//
// It binds, prints {"event":"listening"}, and waits: `join` starts bittorrent-dht with
// `bootstrap: [PEER...]` (so every peer is already listening when the first find_node
// goes out), `status` prints {"event":"status", table, values, sentTo}; the end of stdin
// destroys the node and exits 0. Bad arguments: one line on stderr, exit 2.
import DHT from "bittorrent-dht";
import { verify } from "pkarr/lib/tools.js";
import { type HostPort, parseHostPort, recordingSocket } from "./_dht_socket.ts";

interface StoredValue {
  k?: Uint8Array;
  seq?: number;
}
interface BittorrentDht {
  nodes: { toArray(): { host: string; port: number }[] };
  _values: { cache: Record<string, { value: StoredValue }> };
  on(event: "ready" | "warning" | "error", listener: (error?: Error) => void): void;
  destroy(callback: () => void): void;
}

let bind: HostPort;
let peers: HostPort[];
try {
  if (Deno.args.length < 1) throw new Error("usage: _dht_node.ts BIND_IP:PORT [PEER_IP:PORT...]");
  bind = parseHostPort(Deno.args[0]);
  peers = Deno.args.slice(1).map(parseHostPort);
} catch (error) {
  console.error(`_dht_node: ${(error as Error).message}`);
  Deno.exit(2);
}

const print = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
const { socket, sentTo } = recordingSocket();
let dht: BittorrentDht | undefined;

socket.once("error", (error) => {
  console.error(`_dht_node: cannot bind ${bind.host}:${bind.port}: ${error.message}`);
  Deno.exit(1);
});
socket.bind(bind.port, bind.host, () => print({ event: "listening" }));

function join(): void {
  if (dht) return;
  // The socket is bound before bittorrent-dht sees it (k-rpc-socket takes `socket`), so
  // its 'listening' event is repeated for k-rpc and bittorrent-dht's own state.
  dht = new DHT({ socket, bootstrap: peers, verify }) as BittorrentDht;
  socket.emit("listening");
  dht.on("ready", () => print({ event: "ready" }));
  dht.on("error", (error) => console.error(`_dht_node: ${error?.message}`));
}

function status(): void {
  const table = dht?.nodes.toArray().map((node) => `${node.host}:${node.port}`) ?? [];
  const values = Object.values(dht?._values.cache ?? {}).map(({ value }) => ({
    k: value.k ? Array.from(value.k, (b) => b.toString(16).padStart(2, "0")).join("") : null,
    seq: value.seq ?? null,
  }));
  print({ event: "status", table, values, sentTo: sentTo() });
}

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let pending = "";
for await (const chunk of lines) {
  pending += chunk;
  const parts = pending.split("\n");
  pending = parts.pop()!;
  for (const command of parts.map((line) => line.trim())) {
    if (command === "join") join();
    else if (command === "status") status();
    else if (command !== "") console.error(`_dht_node: unknown command ${JSON.stringify(command)}`);
  }
}
// stdin closed: the test is done with this node (or died).
if (dht) await new Promise<void>((resolve) => dht!.destroy(resolve));
else socket.close();
print({ event: "exit" });
Deno.exit(0);
