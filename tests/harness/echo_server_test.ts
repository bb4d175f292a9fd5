import { deepStrictEqual, equal } from "node:assert/strict";
import { startTcpEchoServer, startUdpEchoServer } from "./echo_server.ts";
import { transferPayload } from "./tcp_payload.ts";

Deno.test("startTcpEchoServer() echoes until EOF, then half-closes", async () => {
  await using echo = startTcpEchoServer();
  const { sent, received } = await transferPayload(echo.port, 3 * 1024 * 1024 + 7);
  deepStrictEqual(received, sent);
  equal(echo.bytesEchoed, sent.bytes);
});

Deno.test("startTcpEchoServer() close() ends open connections", async () => {
  const echo = startTcpEchoServer();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: echo.port });
  await conn.write(new Uint8Array([1]));
  const buffer = new Uint8Array(1);
  equal(await conn.read(buffer), 1);
  await echo.close();
  equal(await conn.read(buffer), null);
  conn.close();
});

Deno.test("startUdpEchoServer() returns each datagram to its sender", async () => {
  await using echo = startUdpEchoServer();
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const payload = new TextEncoder().encode("ping");
    await socket.send(payload, { transport: "udp", hostname: "127.0.0.1", port: echo.port });
    const [data] = await socket.receive();
    deepStrictEqual(data, payload);
  } finally {
    socket.close();
  }
});
