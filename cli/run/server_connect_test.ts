import assert from "node:assert/strict";
import { AllAttemptsFailedError } from "../../core/connect/mod.ts";
import { ConnectError } from "../../core/transport/mod.ts";
import { RecordLookupError } from "../../core/endpoint/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { SessionRefusedError } from "../../core/tunnel/mod.ts";
import { lookupAdvice, permanentFailure } from "./server_connect.ts";

Deno.test("permanentFailure() stops on refusals and a wrong peer, with the first connect's advice", () => {
  const auth = permanentFailure(
    new SessionRefusedError("auth", "server refused authentication: invalid token"),
  );
  assert.equal(
    auth?.message,
    "server refused authentication: invalid token (ask the server's operator for a valid token)",
  );
  const source = new SessionRefusedError("source", "server refused source tcp://10.0.0.1:22: no");
  assert.equal(permanentFailure(source), source);
  const identity = permanentFailure(
    new ConnectError("identity", "the server's identity did not match"),
  );
  assert.equal(identity?.message, "the server's identity did not match; check --server-node-id");
  const version = new ConnectError("version", "the server speaks another protocol version");
  assert.equal(permanentFailure(version), version);
  const everyPathWrongPeer = new AllAttemptsFailedError([
    { label: "direct", error: new ConnectError("identity", "wrong peer") },
    { label: "relay https://relay.test/", error: new ConnectError("identity", "wrong peer") },
  ]);
  assert.equal(permanentFailure(everyPathWrongPeer), everyPathWrongPeer);
});

Deno.test("permanentFailure() retries what may pass: unreachable, full, dropped, one path of several", () => {
  for (
    const error of [
      new ConnectError("unreachable", "Cannot reach the server (no answer)"),
      new SessionRefusedError("full", "server refused the session: 4 sessions"),
      new SessionRefusedError("closed", "server closed the connection: shutting down"),
      new Error("No discovery record"),
      new AllAttemptsFailedError([
        { label: "direct", error: new ConnectError("identity", "wrong peer") },
        { label: "relay https://relay.test/", error: new Error("timed out") },
      ]),
      new AllAttemptsFailedError([]),
    ]
  ) {
    assert.equal(permanentFailure(error), undefined, error.message);
  }
});

Deno.test("permanentFailure() words key refusals, and stops at a server that predates client keys", () => {
  const unlisted = permanentFailure(
    new SessionRefusedError("auth", "server refused authentication: client key not authorized", {
      reason: "client key not authorized",
    }),
  );
  assert.match(unlisted!.message, /add your public key to its --authorized-keys file/);
  const tokensOnly = permanentFailure(
    new SessionRefusedError("auth", "server refused authentication: x", {
      reason: "this server accepts no client keys (only tokens)",
    }),
  );
  assert.match(tokensOnly!.message, /\(ask the server's operator for a token\)$/);
  const old = permanentFailure(
    new SessionRefusedError("closed", "server closed the connection: unknown frame type 0x12", {
      reason: "unknown frame type 0x12",
    }),
  );
  assert.match(old!.message, /predates client keys: update it, or use a token\)$/);
  // Any other closed connection is worth another attempt.
  const lost = new SessionRefusedError("closed", "server closed the connection: timed out", {
    reason: "timed out",
  });
  assert.equal(permanentFailure(lost), undefined);
});

Deno.test("lookupAdvice(): a failed lookup, with nothing else named, points at --server-addr and --relay-url", () => {
  const serverId = SecretKey.generate().endpointId;
  const pkarr = "at http://127.0.0.1:3340/pkarr";
  const unreachable = new RecordLookupError("unreachable", serverId, pkarr, {
    cause: new Error("no answer within 10 s"),
  });
  const none = { serverAddrs: [], relayUrls: [] };
  assert.match(
    lookupAdvice(unreachable, none) ?? "",
    /^the server was looked up at http:\/\/127\.0\.0\.1:3340\/pkarr only: .*--server-addr HOST:PORT or --relay-url URL$/,
  );
  // Nested in the race of paths, as connectToServer reports it.
  const raced = new AllAttemptsFailedError([{
    label: `discovery ${pkarr}`,
    error: unreachable,
  }]);
  assert.ok(lookupAdvice(raced, none));
  assert.ok(lookupAdvice(new RecordLookupError("no-record", serverId, pkarr), none));
  // Named ways, a record that names no path, another failure: no advice.
  assert.equal(
    lookupAdvice(unreachable, { serverAddrs: [{ hostname: "a", port: 1 }], relayUrls: [] }),
    undefined,
  );
  assert.equal(lookupAdvice(unreachable, { serverAddrs: [], relayUrls: ["http://r/"] }), undefined);
  assert.equal(lookupAdvice(new RecordLookupError("no-path", serverId, pkarr), none), undefined);
  assert.equal(lookupAdvice(new Error("other"), none), undefined);
});
