import { equal, ok, rejects } from "node:assert/strict";
import { Http1Connection } from "./http1_connection.ts";

Deno.test("Http1Connection gives up on a server that never answers, within its timeout", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn); // reads nothing, answers nothing
  })();
  try {
    const connection = await Http1Connection.open({
      host: "127.0.0.1",
      port: (listener.addr as Deno.NetAddr).port,
      localAddress: "127.1.0.8",
      timeoutMs: 200,
    });
    const started = performance.now();
    await rejects(connection.request("GET", "/"), /no response to GET \/ in 200 ms/);
    ok(performance.now() - started < 2_000);
    // The connection is done: a further request fails at once.
    await rejects(connection.request("GET", "/"), /no response/);
    equal((held[0]?.remoteAddr as Deno.NetAddr | undefined)?.hostname, "127.1.0.8");
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
  }
});

Deno.test("Http1Connection reports a server that closes mid-response", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    await conn.read(new Uint8Array(1024));
    await conn.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
    conn.close();
  })();
  try {
    const connection = await Http1Connection.open({
      host: "127.0.0.1",
      port: (listener.addr as Deno.NetAddr).port,
    });
    await rejects(connection.request("GET", "/"), /closed by the server/);
  } finally {
    await serving;
    listener.close();
  }
});
