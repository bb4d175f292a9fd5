import assert from "node:assert/strict";
import { memoryConnectionPair } from "../transport/mod.ts";
import { SessionPacketPath } from "./session_packet_path.ts";

async function collect(path: SessionPacketPath, count: number): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  while (got.length < count) {
    const batch = await path.receive();
    if (batch === null) break;
    got.push(...batch);
  }
  return got;
}

const message = (size: number, fill: number) => new Uint8Array(size).fill(fill);

Deno.test("SessionPacketPath sends what fits as datagrams and the rest on a stream", async () => {
  const [a, b] = memoryConnectionPair({ maxDatagramSize: 1_162 });
  const sender = new SessionPacketPath(a);
  const receiver = new SessionPacketPath(b);
  sender.send([message(100, 1), message(1_162, 2), message(1_452, 3), message(9_048, 4)]);
  const got = await collect(receiver, 4);
  assert.deepEqual(got.map((m) => [m.length, m[0]]).sort((x, y) => x[1] - y[1]), [
    [100, 1],
    [1_162, 2],
    [1_452, 3],
    [9_048, 4],
  ]);
  assert.deepEqual(sender.counts, { datagrams: 2, streamed: 2, dropped: 0 });
  a.close();
  assert.equal(await receiver.receive(), null, "ends with the connection");
  sender.close();
});

Deno.test("SessionPacketPath keeps large messages in order on the stream, both ways", async () => {
  const [a, b] = memoryConnectionPair({ maxDatagramSize: 1_162 });
  const left = new SessionPacketPath(a);
  const right = new SessionPacketPath(b);
  const batch = Array.from({ length: 500 }, (_, i) => message(1_300 + (i % 100), i & 0xff));
  for (let i = 0; i < batch.length; i += 50) {
    left.send(batch.slice(i, i + 50));
    right.send(batch.slice(i, i + 50));
  }
  const [atRight, atLeft] = await Promise.all([collect(right, 500), collect(left, 500)]);
  assert.deepEqual(atRight, batch);
  assert.deepEqual(atLeft, batch);
  left.close();
  right.close();
  a.close();
});

Deno.test("SessionPacketPath drops a peer's stream that carries other messages", async () => {
  const [a, b] = memoryConnectionPair();
  const receiver = new SessionPacketPath(b);
  const stream = await a.openStream();
  const writer = stream.writable.getWriter();
  // A tcp-open frame, then a WireGuard message that must not be delivered.
  await writer.write(Uint8Array.of(0x05, 0, 4, 0, 0, 0, 7, 0x10, 0, 1, 4));
  await new Promise((r) => setTimeout(r, 20));
  const sender = new SessionPacketPath(a);
  sender.send([message(10, 9)]);
  await new Promise((r) => setTimeout(r, 20));
  sender.send([message(10, 8)]);
  const got = await collect(receiver, 2);
  assert.deepEqual(got, [message(10, 9), message(10, 8)]);
  sender.close();
  a.close();
});
