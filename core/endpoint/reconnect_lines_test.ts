// What a client that keeps trying prints: one line per change of cause, not per attempt.
import assert from "node:assert/strict";
import { ConnectError } from "../transport/mod.ts";
import { ReconnectLines } from "./mod.ts";

function recorder() {
  const lines: string[] = [];
  const debug: string[] = [];
  return {
    lines,
    debug,
    log: {
      info: (line: string) => lines.push(line),
      warn: (line: string) => lines.push(`warning: ${line}`),
      debug: (line: string) => debug.push(line),
    },
  };
}

const unreachable = (why: string) =>
  new ConnectError("unreachable", `Cannot reach the server (relay https://r.test/: ${why})`, [
    { where: "relay https://r.test/", why },
  ]);
const ID = "a".repeat(52);

Deno.test("ReconnectLines: the first connect says a cause once, and again when it changes", () => {
  const { lines, debug, log } = recorder();
  const out = new ReconnectLines(log, ID);
  for (let i = 0; i < 5; i++) out.notYet(unreachable("no answer (timed out)"), 1_500);
  out.notYet(unreachable("connection refused"), 3_000);
  out.notYet(unreachable("connection refused"), 6_000);
  out.notYet(unreachable("no answer (timed out)"), 12_000);
  assert.deepEqual(lines, [
    `warning: Cannot connect to server ${ID} yet: relay https://r.test/: no answer (timed out); retrying with backoff (next in 2 s)`,
    `warning: Cannot connect to server ${ID} yet: relay https://r.test/: connection refused; retrying with backoff (next in 3 s)`,
    `warning: Cannot connect to server ${ID} yet: relay https://r.test/: no answer (timed out); retrying with backoff (next in 12 s)`,
  ]);
  assert.equal(debug.length, 5, "the repeats are kept for --verbose");
});

Deno.test("ReconnectLines: a reconnect says the loss, each new cause, and the return", () => {
  const { lines, log } = recorder();
  const out = new ReconnectLines(log, ID);
  out.lost("server shutting down");
  out.attemptFailed(unreachable("connection refused"), 1, 900);
  out.attemptFailed(unreachable("connection refused"), 2, 1_800);
  out.restored("at 127.0.0.1:7000", 3, 4_200);
  // A later outage says its cause again, even the same one.
  out.lost("no answer (timed out)");
  out.attemptFailed(unreachable("connection refused"), 1, 900);
  assert.deepEqual(lines, [
    "warning: Connection to the server lost: server shutting down; reconnecting",
    "warning: reconnect attempt 1 failed: relay https://r.test/: connection refused; next in 1 s",
    `Reconnected to server ${ID} at 127.0.0.1:7000 after 4.2 s (3 attempts)`,
    "warning: Connection to the server lost: no answer (timed out); reconnecting",
    "warning: reconnect attempt 1 failed: relay https://r.test/: connection refused; next in 1 s",
  ]);
});
