// Run inside a namespace: sends a checksummed payload through a local port to an
// echo service and prints the two digests as JSON.
import { transferPayload } from "../harness/mod.ts";

const [port, size] = Deno.args.map(Number);
const { sent, received, ms } = await transferPayload(port, size, { timeoutMs: 60_000 });
console.log(
  JSON.stringify({ sent: sent.sha256, received: received.sha256, bytes: received.bytes, ms }),
);
