// Client-key authentication between a client and a server session over an
// in-memory connection pair: keys accepted and named, refusals alike for an
// unknown key and a bad proof, proofs bound to one nonce and one server, tokens
// beside keys, and the auth deadline and admission limit over the longer exchange.
import assert from "node:assert/strict";
import { AuthorizedKeys, ClientKey, proveKeyPossession } from "../auth/mod.ts";
import { AdmissionLimit, type PeerConnection } from "../transport/mod.ts";
import { connect, echoDialer, serverOptions, TOKEN } from "./_session_fixtures.ts";
import { openClientSession, SessionRefusedError } from "./client_session.ts";
import { FramedStream } from "./framed_stream.ts";
import type { TunnelLog } from "./log.ts";
import { AuthStatus, type Message } from "./messages.ts";
import {
  CLIENT_KEY_REFUSED,
  CLIENT_KEYS_NOT_ACCEPTED,
  type ServerSessionOptions,
} from "./server_session.ts";
import { SessionRegistry } from "./session_registry.ts";
import { parseSource } from "./source.ts";

const SERVER_ID = new Uint8Array(32).fill(0x5a);
const OTHER_SERVER_ID = new Uint8Array(32).fill(0xa5);
const SOURCE = parseSource("tcp://127.0.0.1:22");
const alice = ClientKey.generate();
const mallory = ClientKey.generate();
const keys = new AuthorizedKeys([{ key: alice.publicKey, comment: "alice-laptop" }]);

function recordingLog(): TunnelLog & { lines: string[] } {
  const lines: string[] = [];
  const keep = (line: string) => void lines.push(line);
  return { lines, info: keep, debug: keep, warn: keep };
}

function keyServer(extra: Partial<ServerSessionOptions> = {}) {
  return serverOptions(echoDialer().dialer, {
    clientKeys: { keys, serverId: SERVER_ID },
    ...extra,
  });
}

/** Runs the key exchange by hand up to the challenge; returns the stream and the nonce. */
async function challengeOf(client: PeerConnection, publicKey: Uint8Array) {
  const auth = new FramedStream(await client.openStream());
  await auth.write({ type: "auth-key-request", publicKey });
  const challenge = await auth.read();
  assert.equal(challenge?.type, "auth-challenge");
  return { auth, nonce: (challenge as Extract<Message, { type: "auth-challenge" }>).nonce };
}

/** Sends `signature` as the proof and returns the server's verdict. */
async function answer(auth: FramedStream, signature: Uint8Array) {
  await auth.write({ type: "auth-key-proof", signature });
  await auth.closeWrite();
  return await auth.read();
}

Deno.test("client key: a listed key opens a session, named by its comment in the log and status", async () => {
  const log = recordingLog();
  const registry = new SessionRegistry();
  const { client, served } = connect(keyServer({ log, registry }));
  const session = await openClientSession(
    client,
    { clientKey: alice, serverId: SERVER_ID },
    SOURCE,
  );
  assert.equal(session.source, SOURCE);
  // The server registers the session once the path stream's hello is read.
  for (let i = 0; i < 100 && registry.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(registry.snapshot()[0].clientKey, 'key "alice-laptop"');
  assert.ok(
    log.lines.some((line) => /client connected from .* key "alice-laptop"$/.test(line)),
    log.lines.join("\n"),
  );
  client.close();
  await served;
});

Deno.test("client key: an unlisted key and a bad signature get the same refusal", async () => {
  const log = recordingLog();
  const unlisted = connect(keyServer({ log }));
  const refused = await openClientSession(
    unlisted.client,
    { clientKey: mallory, serverId: SERVER_ID },
    SOURCE,
  ).catch((error) => error);
  assert.ok(refused instanceof SessionRefusedError);
  assert.equal(refused.kind, "auth");
  assert.equal(refused.reason, CLIENT_KEY_REFUSED);
  await unlisted.served;
  // The server's log names the refused key, so its operator can tell whose it was.
  assert.ok(
    log.lines.some((line) => line.endsWith(`client key not authorized (key ${mallory.publicKey})`)),
    log.lines.join("\n"),
  );

  // Alice's key, but the proof signed by another key.
  const forged = connect(keyServer());
  const { auth, nonce } = await challengeOf(forged.client, alice.publicKey.bytes);
  const verdict = await answer(auth, proveKeyPossession(mallory, nonce, SERVER_ID));
  assert.deepEqual(verdict, {
    type: "auth-response",
    status: AuthStatus.InvalidCredential,
    reason: CLIENT_KEY_REFUSED,
  });
  await forged.served;
});

Deno.test("client key: a proof answers one nonce of one server only", async () => {
  const options = keyServer();
  // A valid proof on a first connection...
  const first = connect(options);
  const one = await challengeOf(first.client, alice.publicKey.bytes);
  const proof = proveKeyPossession(alice, one.nonce, SERVER_ID);
  assert.equal((await answer(one.auth, proof))?.type, "auth-response");
  first.client.close();
  await first.served;

  // ...replayed on a second one, which drew another nonce, is refused.
  const second = connect(options);
  const two = await challengeOf(second.client, alice.publicKey.bytes);
  assert.notDeepEqual(two.nonce, one.nonce);
  assert.deepEqual(await answer(two.auth, proof), {
    type: "auth-response",
    status: AuthStatus.InvalidCredential,
    reason: CLIENT_KEY_REFUSED,
  });
  await second.served;

  // A proof made for another server (a client tricked into signing for it) is refused too.
  const third = connect(options);
  const three = await challengeOf(third.client, alice.publicKey.bytes);
  const verdict = await answer(three.auth, proveKeyPossession(alice, three.nonce, OTHER_SERVER_ID));
  assert.equal(verdict?.type === "auth-response" && verdict.reason, CLIENT_KEY_REFUSED);
  await third.served;
});

Deno.test("client key: tokens keep working beside keys; a token-only server refuses keys", async () => {
  const options = keyServer();
  const withToken = connect(options);
  await openClientSession(withToken.client, TOKEN, SOURCE);
  withToken.client.close();
  await withToken.served;

  const tokenOnly = connect(serverOptions(echoDialer().dialer));
  const refused = await openClientSession(
    tokenOnly.client,
    { clientKey: alice, serverId: SERVER_ID },
    SOURCE,
  ).catch((error) => error);
  assert.equal(refused.reason, CLIENT_KEYS_NOT_ACCEPTED);
  await tokenOnly.served;
});

Deno.test("client key: a client that never sends its proof is closed at the auth deadline", async () => {
  const { client, served } = connect(keyServer({ authTimeoutMs: 150 }));
  await challengeOf(client, alice.publicKey.bytes);
  const started = performance.now();
  const info = await client.closed;
  assert.match(info.reason, /no valid authentication in time/);
  assert.ok(performance.now() - started < 2_000);
  await served;
});

Deno.test("client key: another message in place of the proof ends the connection", async () => {
  const { client, served } = connect(keyServer());
  const { auth } = await challengeOf(client, alice.publicKey.bytes);
  await auth.write({ type: "auth-request", credential: TOKEN });
  const info = await client.closed;
  assert.match(info.reason, /expected a key proof/);
  await served;
});

Deno.test("client key: a connection waiting for its challenge's answer counts as unauthenticated", async () => {
  const unauthenticated = new AdmissionLimit({ total: 1, perAddress: 1 });
  const options = keyServer({ unauthenticated, authTimeoutMs: 300 });
  const waiting = connect(options);
  await challengeOf(waiting.client, alice.publicKey.bytes);
  const turnedAway = connect(options);
  const info = await turnedAway.client.closed;
  assert.match(info.reason, /too many unauthenticated connections/);
  await turnedAway.served;
  await waiting.served;
  assert.equal(unauthenticated.total, 0);
});
