import { equal, rejects } from "node:assert/strict";
import { freePort } from "./free_port.ts";
import { isTcpListening, waitForTcpListener } from "./wait_for_listener.ts";

Deno.test("isTcpListening() sees a listener without connecting to it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    equal(await isTcpListening(listener.addr.port), true);
    await waitForTcpListener(listener.addr.port, { timeoutMs: 1_000 });
  } finally {
    listener.close();
  }
});

Deno.test("waitForTcpListener() gives up when nothing listens", async () => {
  const port = freePort();
  equal(await isTcpListening(port), false);
  await rejects(waitForTcpListener(port, { timeoutMs: 200 }), /Cannot wait for TCP listener/);
});
