import { deepStrictEqual, equal } from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { httpSourceRunner } from "./http_source_load.ts";
import { runLanes } from "./load_lanes.ts";

Deno.test("httpSourceRunner() sends from its source address over one connection, counting statuses", async () => {
  const seen: string[] = [];
  const sockets = new Set<unknown>();
  const server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url} from ${request.socket.remoteAddress}`);
    sockets.add(request.socket);
    const chunks: Uint8Array[] = [];
    request.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    request.on("end", () => {
      if (request.method === "PUT") {
        response.writeHead(204).end();
        return;
      }
      response.writeHead(request.url === "/missing" ? 404 : 200).end("body");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const load = await runLanes(
      [{
        localAddress: "127.1.0.7",
        requests: [
          { method: "PUT" as const, path: "/a", body: new Uint8Array([1, 2]) },
          { method: "GET" as const, path: "/a" },
          { method: "GET" as const, path: "/missing" },
        ],
      }],
      1,
      5_000,
      httpSourceRunner("127.0.0.1", port),
    );
    deepStrictEqual(load.outcomes, { "204": 1, "200": 1, "404": 1 });
    deepStrictEqual(seen, [
      "PUT /a from 127.1.0.7",
      "GET /a from 127.1.0.7",
      "GET /missing from 127.1.0.7",
    ]);
    equal(sockets.size, 1);
    // Nobody listening: the task fails, counted.
    const refused = await runLanes(
      [{ requests: [{ method: "GET" as const, path: "/" }] }],
      1,
      5_000,
      httpSourceRunner("127.0.0.1", 1),
    );
    equal(refused.failures.count, 1);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
