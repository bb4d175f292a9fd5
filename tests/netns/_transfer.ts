// Run inside a namespace: sends a checksummed payload to an echo service at a port of
// the address given (default 127.0.0.1) and prints the two digests as JSON.
import { transferPayload } from "../harness/mod.ts";

const [port, size] = Deno.args.slice(0, 2).map(Number);
const hostname = Deno.args[2] ?? "127.0.0.1";
const { sent, received, ms } = await transferPayload(port, size, { hostname, timeoutMs: 60_000 });
console.log(
  JSON.stringify({ sent: sent.sha256, received: received.sha256, bytes: received.bytes, ms }),
);
