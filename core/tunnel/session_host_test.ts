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
