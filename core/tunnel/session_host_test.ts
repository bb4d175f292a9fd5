import assert from "node:assert/strict";
import { SessionHost } from "./session_host.ts";
import { echoDialer, serverOptions } from "./_session_fixtures.ts";
import { memoryConnectionPair } from "../transport/mod.ts";
import { openClientSession } from "./client_session.ts";
import { parseSource } from "./source.ts";
import { SessionLimiter } from "./session_limiter.ts";
import { silentLog } from "./log.ts";

Deno.test("SessionHost: numbers its sessions, serves each with its own check, and drains", async () => {
  const { services } = serverOptions(echoDialer().dialer);
  const host = new SessionHost({ services, sessions: new SessionLimiter(4), log: silentLog });
  const token = (text: string) => new TextEncoder().encode(text);
  const pairs = [memoryConnectionPair(), memoryConnectionPair()];
  const served = pairs.map(([, server], i) =>
    host.serve(server, (credential) => new TextDecoder().decode(credential) === `token ${i}`)
  );
  assert.equal(host.active, 2);
  assert.equal(host.nextLabel(), "session 3", "two labels were taken");
  const first = await openClientSession(
    pairs[0][0],
    token("token 0"),
    parseSource("tcp://127.0.0.1:22"),
  );
  await assert.rejects(
    openClientSession(pairs[1][0], token("token 0"), parseSource("tcp://127.0.0.1:22")),
    /auth|token|credential/i,
    "the second session checks its own credential",
  );
  first.conn.close();
  await host.drained();
  assert.equal(host.active, 0);
  await Promise.all(served);
});

Deno.test("SessionHost.closeAll(): every client hears the code and reason, authenticated or not", async () => {
  const { services } = serverOptions(echoDialer().dialer);
  const host = new SessionHost({ services, sessions: new SessionLimiter(4), log: silentLog });
  const token = new TextEncoder().encode("t");
  const [client, server] = memoryConnectionPair();
  const served = host.serve(server, () => true);
  const session = await openClientSession(client, token, parseSource("tcp://127.0.0.1:22"));
  // A connection still authenticating is told too.
  const [waiting, waitingServer] = memoryConnectionPair();
  const servedWaiting = host.serve(waitingServer, () => true);
  const goodbye = { code: 3, reason: "server shutting down" };
  assert.equal(host.closeAll(goodbye), 2);
  assert.deepEqual(await session.conn.closed, goodbye);
  assert.deepEqual(await waiting.closed, goodbye);
  await Promise.all([served, servedWaiting]);
  await host.drained();
  assert.equal(host.closeAll(goodbye), 0, "ended sessions are forgotten");
});
