/**
 * Runs core/portmap's PortMapper in a bed host: binds a UDP socket, maps its port, prints
 * one JSON line per event and per datagram received, and on "close" on stdin closes the
 * mapper and exits. Args: `<protocols comma list|none> <lifetime seconds>`.
 * @module
 */
import { type MappingProtocol, PortMapper } from "../../core/portmap/mod.ts";

const [list, lifetime] = Deno.args;
const protocols = list === "none" ? [] : list.split(",") as MappingProtocol[];
const socket = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
const port = (socket.addr as Deno.NetAddr).port;
const print = (value: unknown) => console.log(JSON.stringify(value));
const started = Date.now();
const mapper = new PortMapper({
  internalPort: port,
  protocols,
  lifetimeSeconds: Number(lifetime),
  onEvent: (event) => print({ ...event, ms: Date.now() - started }),
});
print({ type: "port", port });
const mapping = await mapper.start();
print({ type: "started", mapping: mapping ?? null, ms: Date.now() - started });
(async () => {
  for await (const [data, from] of socket) {
    print({
      type: "datagram",
      text: new TextDecoder().decode(data),
      from: (from as Deno.NetAddr).hostname,
    });
  }
})().catch(() => {});
for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  if (line.includes("close")) break;
}
const closing = Date.now();
await mapper.close();
print({ type: "closed", ms: Date.now() - closing });
socket.close();
