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

/**
 * A request/reply service whose replies are larger than its requests: a request
 * holding a size (as text) gets that many bytes back, a pattern of the size.
 */
function startSizedReplyServer(): { port: number; close(): Promise<void> } {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const buffer = new Uint8Array(65_536);
    for (;;) {
      try {
        const [data, from] = await socket.receive(buffer);
        const size = Number(new TextDecoder().decode(data.subarray(0, 6)));
        await socket.send(sizedPayload(size), from);
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
      }
    }
  })();
  return {
    port: (socket.addr as Deno.NetAddr).port,
    close: () => (socket.close(), serving),
  };
}

function sizedPayload(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff);
}

/**
 * Sends `request` from a fresh local socket (so it opens a new flow) and returns
 * the reply. A lost datagram is retried from another fresh socket: each attempt
 * is its flow's first exchange.
 */
async function firstExchange(port: number, request: Uint8Array): Promise<Uint8Array> {
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  for (let attempt = 0; attempt < 3; attempt++) {
    const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      await socket.send(request, to);
      const timer = new Promise<null>((r) => setTimeout(() => r(null), 3_000));
      const got = await Promise.race([socket.receive(), timer]);
      if (got) return got[0];
    } finally {
      socket.close();
    }
  }
  throw new Error(`no reply to a first request of ${request.length} bytes`);
}

Deno.test("the first UDP reply of a flow arrives whole however large, and so does a first large request", async () => {
  const service = startSizedReplyServer();
  try {
    await using tunnel = await openTunnel(`udp://127.0.0.1:${service.port}`);
    for (const size of [60_000, 65_507]) {
      const request = new TextEncoder().encode(String(size).padStart(6, "0"));
      const reply = await firstExchange(tunnel.client.localPort, request);
      assert.deepEqual(reply, sizedPayload(size), `a first reply of ${size} bytes`);
    }
    // A first request of 60,000 bytes (it names the reply's size in its first bytes).
    const request = new Uint8Array(60_000);
    request.set(new TextEncoder().encode("060000"));
    const reply = await firstExchange(tunnel.client.localPort, request);
    assert.deepEqual(reply, sizedPayload(60_000), "the reply to a first request of 60,000 bytes");
  } finally {
    await service.close();
  }
});
