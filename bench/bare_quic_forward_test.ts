import { deepStrictEqual } from "node:assert/strict";
import { startTcpEchoServer, transferPayload } from "../tests/harness/mod.ts";
import { startBareQuicForward } from "./bare_quic_forward.ts";

Deno.test("startBareQuicForward() carries concurrent connections intact, half-close included", async () => {
  await using echo = startTcpEchoServer();
  const forward = await startBareQuicForward(echo.port);
  try {
    // Several at once: each is its own QUIC stream on the one connection.
    const transfers = await Promise.all(
      [1 << 20, 4 << 20, 7 + (1 << 16)].map((size) =>
        transferPayload(forward.port, size, { timeoutMs: 20_000 })
      ),
    );
    for (const { sent, received } of transfers) deepStrictEqual(received, sent);
  } finally {
    await forward.stop();
  }
});
