import assert from "node:assert/strict";
import { startUdpEchoServer } from "../harness/mod.ts";
import { openTunnel } from "./_fixtures.ts";

async function roundTrip(socket: Deno.DatagramConn, port: number, payload: Uint8Array) {
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  // UDP may lose a datagram; a bounded number of retries keeps the test honest.
  for (let attempt = 0; attempt < 5; attempt++) {
    await socket.send(payload, to);
    const timer = new Promise<null>((r) => setTimeout(() => r(null), 2_000));
    const got = await Promise.race([socket.receive(), timer]);
    if (got) return got[0];
  }
  throw new Error(`no reply for ${payload.length} bytes`);
}

Deno.test("UDP round trips of 10, 4,000 and 60,000 bytes arrive intact", async () => {
  await using echo = startUdpEchoServer();
  await using tunnel = await openTunnel(`udp://127.0.0.1:${echo.port}`);
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    for (const size of [10, 4_000, 60_000, 65_507]) {
      const payload = crypto.getRandomValues(new Uint8Array(size));
      const reply = await roundTrip(socket, tunnel.client.localPort, payload);
      assert.deepEqual(reply, payload, `${size} bytes`);
    }
  } finally {
    socket.close();
  }
});

Deno.test("each local UDP peer gets its own replies", async () => {
  await using echo = startUdpEchoServer();
  await using tunnel = await openTunnel(`udp://127.0.0.1:${echo.port}`);
  const sockets = Array.from(
    { length: 5 },
    () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  try {
    for (let round = 0; round < 3; round++) {
      await Promise.all(sockets.map(async (socket, i) => {
        const payload = new TextEncoder().encode(`peer ${i} round ${round}`);
        const reply = await roundTrip(socket, tunnel.client.localPort, payload);
        assert.equal(new TextDecoder().decode(reply), `peer ${i} round ${round}`);
      }));
    }
  } finally {
    sockets.forEach((s) => s.close());
  }
});
