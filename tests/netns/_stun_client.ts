// Runs inside a bed namespace: `deno run --unstable-net --allow-net _stun_client.ts ip:port`.
// Sends a STUN Binding Request (retransmitting) and prints {"mapped":"ip:port"} as JSON.
import { bindingRequest, parseBindingResponse } from "./stun_binding.ts";

const [hostname, port] = Deno.args[0].split(":");
const conn = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
const txid = crypto.getRandomValues(new Uint8Array(12));
const server: Deno.NetAddr = { transport: "udp", hostname, port: Number(port) };

const answer = (async () => {
  for await (const [data] of conn) {
    const mapped = parseBindingResponse(data, txid);
    if (mapped) return mapped;
  }
})();
for (let attempt = 0; attempt < 10; attempt++) {
  await conn.send(bindingRequest(txid), server);
  const mapped = await Promise.race([answer, new Promise((r) => setTimeout(r, 300))]);
  if (mapped) {
    console.log(JSON.stringify({ mapped }));
    Deno.exit(0);
  }
}
console.error(`no STUN answer from ${Deno.args[0]}`);
Deno.exit(1);
