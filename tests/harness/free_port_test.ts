import { equal } from "node:assert/strict";
import { freePort } from "./free_port.ts";

Deno.test("freePort() returns a TCP port that can be bound", () => {
  const port = freePort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  equal(listener.addr.port, port);
  listener.close();
});

Deno.test("freePort() with tcp+udp returns a port free for both", () => {
  const port = freePort({ transport: "tcp+udp" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  equal((socket.addr as Deno.NetAddr).port, port);
  socket.close();
  listener.close();
});
