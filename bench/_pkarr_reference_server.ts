/**
 * The relay-records suite's reference: the same HTTP stack as `tunnel relay`
 * (`node:http` in a Deno process) and a UDP socket, answering the load's
 * requests with no store behind them: GET `/pkarr/<key>` gets a fixed
 * 215-byte body, PUT gets 204 once its body is read, a DNS query comes back
 * as its own answer (QR set, no records). What the relay's figures cost
 * beyond this is the store: signature checks, bookkeeping, encoding answers.
 *
 *     deno run --allow-net bench/_pkarr_reference_server.ts
 *
 * Prints `reference listening http <port> udp <port>`; runs until killed.
 * @module
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const RECORD = new Uint8Array(215).fill(0x61);

const server = createServer((request, response) => {
  const chunks: Uint8Array[] = [];
  request.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  request.on("end", () => {
    if (request.method === "PUT") {
      response.writeHead(204);
      response.end();
      return;
    }
    response.writeHead(200, { "content-type": "application/x-pkarr-signed-packet" });
    response.end(RECORD);
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
console.log(
  `reference listening http ${(server.address() as AddressInfo).port} udp ${
    (udp.addr as Deno.NetAddr).port
  }`,
);
const buffer = new Uint8Array(2_048);
for (;;) {
  const [datagram, from] = await udp.receive(buffer);
  if (datagram.length < 12) continue;
  const answer = datagram.slice();
  answer[2] |= 0x80; // QR: a response
  await udp.send(answer, from).catch(() => {});
}
