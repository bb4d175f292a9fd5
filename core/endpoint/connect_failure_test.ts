// A failed connect said briefly: paths named as the user knows them, one at length.
import assert from "node:assert/strict";
import { AllAttemptsFailedError } from "../connect/mod.ts";
import { ConnectError } from "../transport/mod.ts";
import { SessionRefusedError } from "../tunnel/mod.ts";
import { describeConnectFailure, failedPaths, finalConnectFailure } from "./mod.ts";

const direct = new ConnectError(
  "unreachable",
  "Cannot reach the server (192.0.2.1:7000: connection refused; [2001:db8::1]:7000: no answer (timed out)); check the address and that the server is running",
  [
    { where: "192.0.2.1:7000", why: "connection refused" },
    { where: "[2001:db8::1]:7000", why: "no answer (timed out)" },
  ],
);
const relay = new ConnectError(
  "unreachable",
  "Cannot reach the server (relay https://relay.test/: no answer (timed out)); check that the server is running and uses this relay",
  [{ where: "relay https://relay.test/", why: "no answer (timed out)" }],
);
const everyPath = new AllAttemptsFailedError([
  { label: "direct", error: direct },
  { label: "relay https://relay.test/", error: relay },
  {
    label: "discovery at https://dns.test/pkarr",
    error: new AllAttemptsFailedError([
      { label: "relay https://other.test/", error: new Error("Cannot reach the relay") },
    ]),
  },
]);

Deno.test("failedPaths(): every path tried, nested races flattened, named as given", () => {
  assert.deepEqual(failedPaths(everyPath), [
    { where: "192.0.2.1:7000", why: "connection refused" },
    { where: "[2001:db8::1]:7000", why: "no answer (timed out)" },
    { where: "relay https://relay.test/", why: "no answer (timed out)" },
    { where: "relay https://other.test/", why: "Cannot reach the relay" },
  ]);
  assert.equal(
    failedPaths(new SessionRefusedError("full", "server refused the session")),
    undefined,
  );
  assert.equal(failedPaths(new AllAttemptsFailedError([])), undefined);
});

Deno.test("describeConnectFailure(): one path at length and a count of the others", () => {
  assert.equal(describeConnectFailure(everyPath), "192.0.2.1:7000: connection refused (+3 more)");
  assert.equal(
    describeConnectFailure(everyPath, 2),
    "192.0.2.1:7000: connection refused; [2001:db8::1]:7000: no answer (timed out) (+2 more)",
  );
  assert.equal(describeConnectFailure(relay), "relay https://relay.test/: no answer (timed out)");
  assert.equal(describeConnectFailure(new Error("no record")), "no record");
});

Deno.test("describeConnectFailure(): a line stays short however many paths failed", () => {
  const many = new AllAttemptsFailedError(
    Array.from({ length: 50 }, (_, i) => ({
      label: `relay https://relay${i}.test/`,
      error: new ConnectError("unreachable", "long", [
        { where: `relay https://relay${i}.test/`, why: "no answer (timed out)" },
      ]),
    })),
  );
  assert.ok(many.message.length > 1_000, "the full message is long");
  const line = describeConnectFailure(many);
  assert.equal(line, "relay https://relay0.test/: no answer (timed out) (+49 more)");
  assert.ok(finalConnectFailure(many).message.length < 300, finalConnectFailure(many).message);
});

Deno.test("finalConnectFailure(): several paths listed (three at most); others as they are", () => {
  assert.equal(
    finalConnectFailure(everyPath).message,
    "Cannot reach the server by any path (192.0.2.1:7000: connection refused; [2001:db8::1]:7000: no answer (timed out); relay https://relay.test/: no answer (timed out) (+1 more)); check that the server is running and reachable that way",
  );
  assert.equal(finalConnectFailure(relay), relay);
  const refused = new SessionRefusedError("auth", "server refused authentication: bad token");
  assert.equal(finalConnectFailure(refused), refused);
});
