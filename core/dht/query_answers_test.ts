import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeBencode } from "./bencode.ts";
import { ItemStore } from "./item_store.ts";
import { mutableTarget, signMutableItem } from "./mutable_item.ts";
import { bigIntToId, distance } from "./node_id.ts";
import { PeerStore } from "./peer_store.ts";
import { answerQuery, type AnswerState } from "./query_answers.ts";
import { RoutingTable } from "./routing_table.ts";
import { WriteTokens } from "./write_token.ts";

const FROM = { hostname: "192.0.2.9", port: 4000 };

function state(): AnswerState {
  const table = new RoutingTable(bigIntToId(0n));
  for (let i = 1n; i <= 30n; i++) {
    table.observe(
      { id: bigIntToId(i << 140n), address: { hostname: "10.0.0.1", port: Number(i) } },
      "response",
    );
  }
  return {
    table,
    items: new ItemStore(),
    peers: new PeerStore(),
    tokens: new WriteTokens((n) => crypto.getRandomValues(new Uint8Array(n)), Date.now),
  };
}

Deno.test("answers: ping, find_node's 8 closest, unknown methods 204", () => {
  const s = state();
  assert.deepEqual(answerQuery({ method: "ping" }, FROM, s), { body: {} });
  const target = bigIntToId(7n << 140n);
  const answer = answerQuery({ method: "find_node", target }, FROM, s);
  assert.ok("body" in answer && answer.body.nodes?.length === 8);
  const distances = answer.body.nodes.map((node) => distance(node.id, target));
  assert.deepEqual(distances, [...distances].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  assert.deepEqual(answerQuery({ method: "unknown", name: "vote" }, FROM, s), {
    error: { code: 204, message: "Method Unknown" },
  });
});

Deno.test("answers: get filters by seq; put needs the token of the sender's IP and a sig and seq", () => {
  const s = state();
  const item = signMutableItem(ed25519.utils.randomSecretKey(), 5n, new TextEncoder().encode("v"));
  const target = mutableTarget(item.publicKey);
  const first = answerQuery({ method: "get", target }, FROM, s);
  assert.ok("body" in first && first.body.token && first.body.seq === undefined);
  const put = {
    method: "put" as const,
    token: first.body.token,
    encodedValue: encodeBencode(item.value),
    publicKey: item.publicKey,
    seq: item.seq,
    signature: item.signature,
  };
  assert.deepEqual(answerQuery(put, { ...FROM, hostname: "192.0.2.10" }, s), {
    error: { code: 203, message: "Protocol Error: bad token" },
  });
  const { signature: _, ...unsigned } = put;
  assert.deepEqual(answerQuery(unsigned, FROM, s), {
    error: { code: 203, message: "Protocol Error: mutable put without seq or sig" },
  });
  assert.deepEqual(answerQuery(put, FROM, s), { body: {} });
  const full = answerQuery({ method: "get", target }, FROM, s);
  assert.ok(
    "body" in full && full.body.seq === 5n && full.body.signature && full.body.encodedValue,
  );
  const newer = answerQuery({ method: "get", target, seq: 4n }, FROM, s);
  assert.ok("body" in newer && newer.body.encodedValue);
  const same = answerQuery({ method: "get", target, seq: 5n }, FROM, s);
  assert.ok(
    "body" in same && same.body.seq === 5n && !same.body.encodedValue && !same.body.signature,
  );
});

Deno.test("answers: announce_peer stores the sender's IP; port 0 without implied_port is refused", () => {
  const s = state();
  const infoHash = bigIntToId(99n);
  const token = s.tokens.issue(FROM.hostname);
  const announce = (port: number, impliedPort: boolean) =>
    answerQuery({ method: "announce_peer", infoHash, port, impliedPort, token }, FROM, s);
  assert.ok("error" in announce(0, false));
  assert.deepEqual(announce(0, true), { body: {} });
  const listed = answerQuery({ method: "get_peers", infoHash }, FROM, s);
  assert.ok("body" in listed);
  assert.deepEqual(listed.body.values, [FROM]);
});
