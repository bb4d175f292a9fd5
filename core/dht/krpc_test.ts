import assert from "node:assert/strict";
import { type BencodeDict, type BencodeValue, encodeBencode } from "./bencode.ts";
import {
  decodeCompactNodes,
  decodeKrpc,
  encodeCompactNodes,
  encodeError,
  encodeQuery,
  encodeResponse,
  KrpcDecodeError,
  KrpcErrorCode,
  type KrpcQuery,
  MAX_NODES_PER_RESPONSE,
  type NodeContact,
} from "./krpc.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const id = (fill: number) => new Uint8Array(20).fill(fill);
const T = bytes("aa");
const dict = (entries: [string, BencodeValue][]): BencodeDict => new Map(entries);

Deno.test("krpc: BEP 5's ping example, byte for byte", () => {
  const ping = encodeQuery(T, bytes("abcdefghij0123456789"), { method: "ping" });
  assert.equal(
    new TextDecoder().decode(ping),
    "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
  );
  const response = encodeResponse(T, bytes("mnopqrstuvwxyz123456"), {});
  assert.equal(
    new TextDecoder().decode(response),
    "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
  );
  const error = encodeError(T, 201, "A Generic Error Ocurred");
  assert.equal(
    new TextDecoder().decode(error),
    "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
  );
  assert.deepEqual(decodeKrpc(error), {
    type: "error",
    transactionId: T,
    code: 201,
    message: "A Generic Error Ocurred",
  });
});

Deno.test("krpc: every query round-trips, with the ro flag", () => {
  const queries: Exclude<KrpcQuery, { method: "unknown" }>[] = [
    { method: "ping" },
    { method: "find_node", target: id(2) },
    { method: "get_peers", infoHash: id(3) },
    {
      method: "announce_peer",
      infoHash: id(3),
      port: 6881,
      impliedPort: true,
      token: bytes("tok"),
    },
    { method: "get", target: id(4), seq: 5n },
    {
      method: "put",
      token: bytes("tok"),
      encodedValue: encodeBencode(bytes("value")),
      publicKey: new Uint8Array(32).fill(7),
      seq: 1_700_000_000_000_000n,
      signature: new Uint8Array(64).fill(8),
      salt: bytes("salt"),
      cas: 4n,
    },
    { method: "put", token: bytes("tok"), encodedValue: encodeBencode([1n, bytes("x")]) },
  ];
  for (const query of queries) {
    for (const readOnly of [false, true]) {
      const message = decodeKrpc(encodeQuery(T, id(1), query, readOnly));
      assert.deepEqual(message, {
        type: "query",
        transactionId: T,
        senderId: id(1),
        readOnly,
        query,
      });
    }
  }
});

Deno.test("krpc: responses carry nodes, token, values, item fields and ip", () => {
  const nodes: NodeContact[] = [
    { id: id(9), address: { hostname: "192.0.2.1", port: 6881 } },
    { id: id(10), address: { hostname: "127.0.0.1", port: 1 } },
  ];
  const body = {
    nodes,
    token: bytes("t0k"),
    values: [{ hostname: "198.51.100.7", port: 51413 }],
    publicKey: new Uint8Array(32).fill(1),
    seq: 3n,
    signature: new Uint8Array(64).fill(2),
    encodedValue: encodeBencode(bytes("v")),
  };
  const message = decodeKrpc(
    encodeResponse(T, id(1), body, { hostname: "203.0.113.5", port: 4000 }),
  );
  assert.deepEqual(message, {
    type: "response",
    transactionId: T,
    senderId: id(1),
    body,
    ip: { hostname: "203.0.113.5", port: 4000 },
  });
});

Deno.test("krpc: unknown methods decode as such, so the node answers 204", () => {
  const raw = encodeBencode(
    dict([["a", dict([["id", id(1)]])], ["q", bytes("vote")], ["t", T], ["y", bytes("q")]]),
  );
  const message = decodeKrpc(raw);
  assert.equal(message.type === "query" && message.query.method, "unknown");
  assert.equal(KrpcErrorCode.methodUnknown, 204);
});

Deno.test("krpc: a query with a bad argument keeps its transaction id for a 203", () => {
  const raw = encodeBencode(
    dict([
      ["a", dict([["id", id(1)], ["target", bytes("short")]])],
      ["q", bytes("find_node")],
      [
        "t",
        T,
      ],
      ["y", bytes("q")],
    ]),
  );
  assert.throws(() => decodeKrpc(raw), KrpcDecodeError);
  try {
    decodeKrpc(raw);
  } catch (caught) {
    assert.deepEqual((caught as KrpcDecodeError).transactionId, T);
  }
});

Deno.test("krpc: compact nodes: huge lists are cut, port 0 and 0.0.0.0 skipped, ragged lengths refused", () => {
  const many: NodeContact[] = Array.from({ length: 60 }, (_, i) => ({
    id: id(i),
    address: { hostname: `10.0.0.${i + 1}`, port: 6881 },
  }));
  assert.equal(decodeCompactNodes(encodeCompactNodes(many)).length, MAX_NODES_PER_RESPONSE);
  const junk = encodeCompactNodes([
    { id: id(1), address: { hostname: "0.0.0.0", port: 6881 } },
    { id: id(2), address: { hostname: "10.0.0.1", port: 0 } },
    { id: id(3), address: { hostname: "10.0.0.1", port: 1 } },
  ]);
  assert.deepEqual(decodeCompactNodes(junk).map((node) => node.id[0]), [3]);
  // IPv6 contacts are not written in the 26-byte form.
  assert.equal(
    encodeCompactNodes([{ id: id(1), address: { hostname: "::1", port: 1 } }]).length,
    0,
  );
  const ragged = encodeBencode(
    dict([["r", dict([["id", id(1)], ["nodes", new Uint8Array(27)]])], ["t", T], [
      "y",
      bytes("r"),
    ]]),
  );
  assert.throws(() => decodeKrpc(ragged), /26 bytes each/);
});

Deno.test("krpc fuzz: mutated messages decode or throw KrpcDecodeError", () => {
  const seeds = [
    encodeQuery(T, id(1), { method: "get", target: id(4), seq: 5n }, true),
    encodeQuery(T, id(1), {
      method: "put",
      token: bytes("tok"),
      encodedValue: encodeBencode(bytes("value")),
      publicKey: new Uint8Array(32),
      seq: 1n,
      signature: new Uint8Array(64),
    }),
    encodeResponse(T, id(1), {
      nodes: [{ id: id(9), address: { hostname: "192.0.2.1", port: 6881 } }],
      token: bytes("x"),
      values: [{ hostname: "192.0.2.2", port: 1 }],
    }, { hostname: "192.0.2.3", port: 2 }),
    encodeError(T, 302, "sequence number less than current"),
  ];
  let state = 12345;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
  let decoded = 0;
  for (let round = 0; round < 20_000; round++) {
    const input = Uint8Array.from(seeds[round % seeds.length]);
    for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
      input[Math.floor(random() * input.length)] = random() * 256;
    }
    try {
      decodeKrpc(
        input.subarray(0, random() < 0.2 ? Math.floor(random() * input.length) : input.length),
      );
      decoded++;
    } catch (error) {
      if (!(error instanceof KrpcDecodeError)) throw error;
    }
  }
  assert.ok(decoded > 0);
  for (
    const garbage of [
      new Uint8Array(0),
      bytes("i1e"),
      bytes("le"),
      bytes("de"),
      new Uint8Array(4096),
    ]
  ) {
    assert.throws(() => decodeKrpc(garbage), KrpcDecodeError);
  }
});
