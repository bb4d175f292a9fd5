import assert from "node:assert/strict";
import { FakeClock } from "./_wireguard_fixtures.ts";
import { Handshake } from "./handshake.ts";
import { generatePrivateKey, publicKeyOf } from "./noise_primitives.ts";
import { MIN_INITIATION_INTERVAL } from "./timers.ts";

function pair(clock = new FakeClock()) {
  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const options = { now: clock.now, wallClock: clock.now };
  const initiator = new Handshake({
    privateKey: aKey,
    peerPublicKey: publicKeyOf(bKey),
    ...options,
  });
  const responder = new Handshake({
    privateKey: bKey,
    peerPublicKey: publicKeyOf(aKey),
    ...options,
  });
  return { initiator, responder, clock, aKey, bKey };
}

Deno.test("Handshake: createInitiation/consumeInitiation, createResponse/consumeResponse give matching keys", () => {
  const { initiator, responder } = pair();
  const initiation = initiator.createInitiation(11);
  assert.equal(initiator.state, "initiation-created");
  assert.equal(responder.consumeInitiation(initiation), undefined);
  assert.equal(responder.state, "initiation-consumed");
  const response = responder.createResponse(22);
  assert.equal(responder.state, "response-created");
  assert.equal(initiator.consumeResponse(response), undefined);
  assert.equal(initiator.state, "response-consumed");
  const i = initiator.beginSession();
  const r = responder.beginSession();
  assert.deepEqual(i.sendKey, r.receiveKey);
  assert.deepEqual(i.receiveKey, r.sendKey);
  assert.notDeepEqual(i.sendKey, i.receiveKey);
  assert.deepEqual([i.localIndex, i.remoteIndex, i.isInitiator], [11, 22, true]);
  assert.deepEqual([r.localIndex, r.remoteIndex, r.isInitiator], [22, 11, false]);
  assert.equal(initiator.state, "zeroed");
  assert.equal(responder.state, "zeroed");
});

Deno.test("consumeInitiation() refuses a wrong static key, replays, floods and corruption", () => {
  const { initiator, responder, clock, bKey } = pair();
  const stranger = new Handshake({
    privateKey: generatePrivateKey(),
    peerPublicKey: publicKeyOf(bKey),
    now: clock.now,
    wallClock: clock.now,
  });
  assert.equal(responder.consumeInitiation(stranger.createInitiation(1)), "unknown-peer");
  const initiation = initiator.createInitiation(1);
  const corrupt = initiation.slice();
  corrupt[100] ^= 1;
  assert.equal(responder.consumeInitiation(corrupt), "unauthenticated");
  assert.equal(responder.consumeInitiation(initiation.subarray(0, 100)), "malformed");
  assert.equal(responder.state, "zeroed", "refusals change nothing");
  assert.equal(responder.consumeInitiation(initiation), undefined);
  clock.advance(1_000);
  assert.equal(responder.consumeInitiation(initiation), "replayed");
  // A fresh initiation too soon after the last one is a flood.
  clock.advance(1_000);
  const next = initiator.createInitiation(2);
  assert.equal(responder.consumeInitiation(next), undefined);
  // Past TAI64N's 2^24 ns (~16.8 ms) granularity, so the timestamp is newer, yet too soon.
  clock.advance(18);
  assert.ok(18 < MIN_INITIATION_INTERVAL);
  assert.equal(responder.consumeInitiation(initiator.createInitiation(3)), "flood");
});

Deno.test("consumeResponse() refuses a response to nothing, to another index, and survives a forgery", () => {
  const { initiator, responder } = pair();
  const initiation = initiator.createInitiation(5);
  responder.consumeInitiation(initiation);
  const response = responder.createResponse(6);
  const other = pair();
  assert.equal(other.initiator.consumeResponse(response), "unexpected");
  const wrongIndex = response.slice();
  wrongIndex[8] = 9;
  assert.equal(initiator.consumeResponse(wrongIndex), "unexpected");
  const forged = response.slice();
  forged[50] ^= 1;
  assert.equal(initiator.consumeResponse(forged), "unauthenticated");
  assert.equal(initiator.state, "initiation-created");
  assert.equal(initiator.consumeResponse(response), undefined, "the genuine response still works");
});
