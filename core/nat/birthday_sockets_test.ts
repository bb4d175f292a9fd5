import assert from "node:assert/strict";
import { denoBirthdaySockets } from "./birthday_sockets.ts";

Deno.test("denoBirthdaySockets: bind a given port or any, send and receive on loopback, close ends receive", async () => {
  const a = await denoBirthdaySockets.open(0);
  const b = await denoBirthdaySockets.open(0);
  try {
    assert.ok(a.port > 0 && b.port > 0 && a.port !== b.port);
    await a.send(new Uint8Array([1, 2, 3]), { address: "127.0.0.1", port: b.port });
    const [data, from] = await b.receive();
    assert.deepEqual(data, new Uint8Array([1, 2, 3]));
    assert.deepEqual(from, { address: "127.0.0.1", port: a.port });
    // The same port can be bound again once closed (the prober reuses its ICE socket's port).
    const port = a.port;
    a.close();
    const again = await denoBirthdaySockets.open(port);
    assert.equal(again.port, port);
    again.close();
    const pending = b.receive();
    b.close();
    b.close();
    await assert.rejects(pending);
  } finally {
    a.close();
    b.close();
  }
});
