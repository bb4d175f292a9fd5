/**
 * KRPC (BEP 5) messages as typed values: the six queries a full node answers
 * (BEP 5's ping, find_node, get_peers, announce_peer; BEP 44's get and put),
 * responses, errors, BEP 43's `ro` flag and BEP 42's `ip` field. Decoding is
 * total: any input gives a message or a {@linkcode KrpcDecodeError}.
 * @module
 */
import { concatBytes } from "./_concat_bytes.ts";
import {
  type BencodeDict,
  BencodeError,
  type BencodeValue,
  bytesToKey,
  decodeBencode,
  encodeBencode,
} from "./bencode.ts";

/** A UDP address; the DHT speaks IPv4 here (compact node info of 26 bytes). */
export interface DhtPeerAddress {
  /** IPv4 literal (or, before resolution, a host name). */
  hostname: string;
  /** 1 to 65535. */
  port: number;
}

/** A node as KRPC carries it: its 20-byte id and its address. */
export interface NodeContact {
  /** The node id, 20 bytes. */
  id: Uint8Array;
  /** Where it answers. */
  address: DhtPeerAddress;
}

/** Error codes of BEP 5 (201-204) and BEP 44 (205-207, 301, 302). */
export const KrpcErrorCode = {
  generic: 201,
  server: 202,
  protocol: 203,
  methodUnknown: 204,
  valueTooBig: 205,
  invalidSignature: 206,
  saltTooBig: 207,
  casMismatch: 301,
  seqTooLow: 302,
} as const;

/** The arguments of a query, by method. */
export type KrpcQuery =
  | { method: "ping" }
  | { method: "find_node"; target: Uint8Array }
  | { method: "get_peers"; infoHash: Uint8Array }
  | {
    method: "announce_peer";
    infoHash: Uint8Array;
    port: number;
    impliedPort: boolean;
    token: Uint8Array;
  }
  | { method: "get"; target: Uint8Array; seq?: bigint }
  | {
    method: "put";
    token: Uint8Array;
    /** `v`, bencoded (a value of any type). */
    encodedValue: Uint8Array;
    publicKey?: Uint8Array;
    seq?: bigint;
    signature?: Uint8Array;
    salt?: Uint8Array;
    cas?: bigint;
  }
  | { method: "unknown"; name: string };

/** What a response may carry (every field optional: which ones depends on the query). */
export interface KrpcResponseBody {
  /** Compact IPv4 node info, at most {@linkcode MAX_NODES_PER_RESPONSE} read. */
  nodes?: NodeContact[];
  /** Write token (get_peers, get). */
  token?: Uint8Array;
  /** Peers (get_peers), at most {@linkcode MAX_PEERS_PER_RESPONSE} read. */
  values?: DhtPeerAddress[];
  /** BEP 44: the item's key. */
  publicKey?: Uint8Array;
  /** BEP 44: the item's seq. */
  seq?: bigint;
  /** BEP 44: the item's signature. */
  signature?: Uint8Array;
  /** BEP 44: `v`, bencoded. */
  encodedValue?: Uint8Array;
}

/** A decoded KRPC message. */
export type KrpcMessage =
  | {
    type: "query";
    transactionId: Uint8Array;
    senderId: Uint8Array;
    /** BEP 43: the sender answers no queries; keep it out of routing tables. */
    readOnly: boolean;
    query: KrpcQuery;
  }
  | {
    type: "response";
    transactionId: Uint8Array;
    senderId: Uint8Array;
    body: KrpcResponseBody;
    /** BEP 42: the address the responder saw us at. */
    ip?: DhtPeerAddress;
  }
  | { type: "error"; transactionId: Uint8Array; code: number; message: string };

/** Most nodes read from one response (the rest are ignored). */
export const MAX_NODES_PER_RESPONSE = 16;
/** Most peers read from one get_peers response. */
export const MAX_PEERS_PER_RESPONSE = 64;
/** Longest transaction id accepted. */
export const MAX_TRANSACTION_ID_BYTES = 16;
/** Longest token accepted. */
export const MAX_TOKEN_BYTES = 64;

/** A datagram that is not a KRPC message we understand. */
export class KrpcDecodeError extends Error {
  /** Always "KrpcDecodeError". */
  override name = "KrpcDecodeError";
  /**
   * @param message What is wrong.
   * @param transactionId Set when the datagram was a query with a readable `t`,
   *   so the node can answer with a protocol error (203).
   */
  constructor(message: string, readonly transactionId?: Uint8Array) {
    super(message);
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * Decodes one datagram.
 *
 * @throws {KrpcDecodeError} for anything that is not a well-formed KRPC message; never another error.
 */
export function decodeKrpc(datagram: Uint8Array): KrpcMessage {
  let root: BencodeValue;
  try {
    root = decodeBencode(datagram);
  } catch (error) {
    if (error instanceof BencodeError) throw new KrpcDecodeError(error.message);
    throw error;
  }
  if (!(root instanceof Map)) throw new KrpcDecodeError("KRPC message is not a dictionary");
  const transactionId = bytesField(root, "t", 1, MAX_TRANSACTION_ID_BYTES);
  const y = textField(root, "y");
  if (y === "q") {
    try {
      return decodeQuery(root, transactionId);
    } catch (error) {
      if (error instanceof KrpcDecodeError) throw new KrpcDecodeError(error.message, transactionId);
      throw error;
    }
  }
  if (y === "r") {
    const body = dictField(root, "r");
    const senderId = bytesField(body, "id", 20, 20);
    const ipBytes = optionalBytes(root, "ip", 6, 6);
    const message: KrpcMessage = {
      type: "response",
      transactionId,
      senderId,
      body: decodeResponseBody(body),
    };
    if (ipBytes) message.ip = decodeCompactAddress(ipBytes);
    return message;
  }
  if (y === "e") {
    const list = root.get("e");
    if (!Array.isArray(list) || typeof list[0] !== "bigint") {
      throw new KrpcDecodeError("KRPC error without [code, message]");
    }
    const code = list[0] >= 0n && list[0] <= 999n ? Number(list[0]) : KrpcErrorCode.generic;
    const text = list[1] instanceof Uint8Array ? textDecoder.decode(list[1].subarray(0, 200)) : "";
    return { type: "error", transactionId, code, message: text };
  }
  throw new KrpcDecodeError(`KRPC message of unknown type ${JSON.stringify(y)}`);
}

function decodeQuery(root: BencodeDict, transactionId: Uint8Array): KrpcMessage {
  const name = textField(root, "q");
  const args = dictField(root, "a");
  const senderId = bytesField(args, "id", 20, 20);
  const ro = root.get("ro");
  const readOnly = typeof ro === "bigint" && ro === 1n;
  let query: KrpcQuery;
  switch (name) {
    case "ping":
      query = { method: "ping" };
      break;
    case "find_node":
      query = { method: "find_node", target: bytesField(args, "target", 20, 20) };
      break;
    case "get_peers":
      query = { method: "get_peers", infoHash: bytesField(args, "info_hash", 20, 20) };
      break;
    case "announce_peer": {
      const implied = args.get("implied_port");
      query = {
        method: "announce_peer",
        infoHash: bytesField(args, "info_hash", 20, 20),
        port: intField(args, "port", 0n, 65535n),
        impliedPort: typeof implied === "bigint" && implied !== 0n,
        token: bytesField(args, "token", 1, MAX_TOKEN_BYTES),
      };
      break;
    }
    case "get": {
      query = { method: "get", target: bytesField(args, "target", 20, 20) };
      const seq = optionalBigInt(args, "seq");
      if (seq !== undefined) query.seq = seq;
      break;
    }
    case "put": {
      const v = args.get("v");
      if (v === undefined) throw new KrpcDecodeError("put without v");
      query = {
        method: "put",
        token: bytesField(args, "token", 1, MAX_TOKEN_BYTES),
        encodedValue: encodeBencode(v),
      };
      const publicKey = optionalBytes(args, "k", 32, 32);
      const signature = optionalBytes(args, "sig", 64, 64);
      const salt = optionalBytes(args, "salt", 0, 1024);
      const seq = optionalBigInt(args, "seq");
      const cas = optionalBigInt(args, "cas");
      if (publicKey) query.publicKey = publicKey;
      if (signature) query.signature = signature;
      if (salt && salt.length > 0) query.salt = salt;
      if (seq !== undefined) query.seq = seq;
      if (cas !== undefined) query.cas = cas;
      break;
    }
    default:
      query = { method: "unknown", name: name.slice(0, 32) };
  }
  return { type: "query", transactionId, senderId, readOnly, query };
}

function decodeResponseBody(body: BencodeDict): KrpcResponseBody {
  const out: KrpcResponseBody = {};
  const nodes = body.get("nodes");
  if (nodes !== undefined) {
    if (!(nodes instanceof Uint8Array) || nodes.length % 26 !== 0) {
      throw new KrpcDecodeError("nodes is not compact node info (26 bytes each)");
    }
    out.nodes = decodeCompactNodes(nodes);
  }
  const token = optionalBytes(body, "token", 1, MAX_TOKEN_BYTES);
  if (token) out.token = token;
  const values = body.get("values");
  if (values !== undefined) {
    if (!Array.isArray(values)) throw new KrpcDecodeError("values is not a list");
    out.values = [];
    for (const value of values.slice(0, MAX_PEERS_PER_RESPONSE)) {
      if (value instanceof Uint8Array && value.length === 6) {
        const address = decodeCompactAddress(value);
        if (address.port !== 0) out.values.push(address);
      }
    }
  }
  const publicKey = optionalBytes(body, "k", 32, 32);
  const signature = optionalBytes(body, "sig", 64, 64);
  const seq = optionalBigInt(body, "seq");
  const v = body.get("v");
  if (publicKey) out.publicKey = publicKey;
  if (signature) out.signature = signature;
  if (seq !== undefined) out.seq = seq;
  if (v !== undefined) out.encodedValue = encodeBencode(v);
  return out;
}

/** Reads up to {@linkcode MAX_NODES_PER_RESPONSE} contacts, skipping port 0 and 0.0.0.0. */
export function decodeCompactNodes(bytes: Uint8Array): NodeContact[] {
  const contacts: NodeContact[] = [];
  for (let at = 0; at + 26 <= bytes.length && contacts.length < MAX_NODES_PER_RESPONSE; at += 26) {
    const address = decodeCompactAddress(bytes.subarray(at + 20, at + 26));
    if (address.port === 0 || address.hostname === "0.0.0.0") continue;
    contacts.push({ id: bytes.slice(at, at + 20), address });
  }
  return contacts;
}

/** Writes contacts as compact node info; contacts whose address is not IPv4 are skipped. */
export function encodeCompactNodes(contacts: readonly NodeContact[]): Uint8Array {
  const parts = contacts.flatMap((contact) => {
    const address = encodeCompactAddress(contact.address);
    return address ? [contact.id, address] : [];
  });
  return concatBytes(parts);
}

/** 4 bytes of IPv4 and 2 of port, big-endian. */
export function decodeCompactAddress(bytes: Uint8Array): DhtPeerAddress {
  return {
    hostname: `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`,
    port: (bytes[4] << 8) | bytes[5],
  };
}

/** 6 bytes for an IPv4 address, undefined for anything else. */
export function encodeCompactAddress(address: DhtPeerAddress): Uint8Array | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address.hostname);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return Uint8Array.of(...octets, address.port >> 8, address.port & 0xff);
}

/**
 * Encodes a query.
 *
 * @param readOnly BEP 43: set `ro=1`, we answer no queries.
 */
export function encodeQuery(
  transactionId: Uint8Array,
  senderId: Uint8Array,
  query: Exclude<KrpcQuery, { method: "unknown" }>,
  readOnly = false,
): Uint8Array {
  const args: BencodeDict = new Map([["id", senderId]]);
  switch (query.method) {
    case "ping":
      break;
    case "find_node":
      args.set("target", query.target);
      break;
    case "get_peers":
      args.set("info_hash", query.infoHash);
      break;
    case "announce_peer":
      args.set("info_hash", query.infoHash);
      args.set("port", BigInt(query.port));
      args.set("implied_port", query.impliedPort ? 1n : 0n);
      args.set("token", query.token);
      break;
    case "get":
      args.set("target", query.target);
      if (query.seq !== undefined) args.set("seq", query.seq);
      break;
    case "put":
      args.set("token", query.token);
      args.set("v", decodeBencode(query.encodedValue));
      if (query.publicKey) args.set("k", query.publicKey);
      if (query.signature) args.set("sig", query.signature);
      if (query.salt) args.set("salt", query.salt);
      if (query.seq !== undefined) args.set("seq", query.seq);
      if (query.cas !== undefined) args.set("cas", query.cas);
      break;
  }
  const root: BencodeDict = new Map<string, BencodeValue>([
    ["t", transactionId],
    ["y", textEncoder.encode("q")],
    ["q", textEncoder.encode(query.method)],
    ["a", args],
  ]);
  if (readOnly) root.set("ro", 1n);
  return encodeBencode(root);
}

/**
 * Encodes a response.
 *
 * @param ip BEP 42: the querier's address as we saw it.
 */
export function encodeResponse(
  transactionId: Uint8Array,
  senderId: Uint8Array,
  body: KrpcResponseBody,
  ip?: DhtPeerAddress,
): Uint8Array {
  const r: BencodeDict = new Map([["id", senderId]]);
  if (body.nodes) r.set("nodes", encodeCompactNodes(body.nodes));
  if (body.token) r.set("token", body.token);
  if (body.values) {
    r.set("values", body.values.flatMap((peer) => encodeCompactAddress(peer) ?? []));
  }
  if (body.publicKey) r.set("k", body.publicKey);
  if (body.signature) r.set("sig", body.signature);
  if (body.seq !== undefined) r.set("seq", body.seq);
  if (body.encodedValue) r.set("v", decodeBencode(body.encodedValue));
  const root: BencodeDict = new Map<string, BencodeValue>([
    ["t", transactionId],
    ["y", textEncoder.encode("r")],
    ["r", r],
  ]);
  const compactIp = ip && encodeCompactAddress(ip);
  if (compactIp) root.set("ip", compactIp);
  return encodeBencode(root);
}

/** Encodes an error message `[code, message]`. */
export function encodeError(transactionId: Uint8Array, code: number, message: string): Uint8Array {
  return encodeBencode(
    new Map<string, BencodeValue>([
      ["t", transactionId],
      ["y", textEncoder.encode("e")],
      ["e", [BigInt(code), textEncoder.encode(message)]],
    ]),
  );
}

function field(dict: BencodeDict, name: string): BencodeValue {
  const value = dict.get(name);
  if (value === undefined) throw new KrpcDecodeError(`KRPC message without ${name}`);
  return value;
}

function bytesField(dict: BencodeDict, name: string, min: number, max: number): Uint8Array {
  const value = field(dict, name);
  if (!(value instanceof Uint8Array) || value.length < min || value.length > max) {
    throw new KrpcDecodeError(
      min === max
        ? `KRPC field ${name} is not a ${min}-byte string`
        : `KRPC field ${name} is not a string of ${min} to ${max} bytes`,
    );
  }
  return value;
}

function optionalBytes(
  dict: BencodeDict,
  name: string,
  min: number,
  max: number,
): Uint8Array | undefined {
  return dict.has(name) ? bytesField(dict, name, min, max) : undefined;
}

function textField(dict: BencodeDict, name: string): string {
  return bytesToKey(bytesField(dict, name, 1, 64));
}

function dictField(dict: BencodeDict, name: string): BencodeDict {
  const value = field(dict, name);
  if (!(value instanceof Map)) throw new KrpcDecodeError(`KRPC field ${name} is not a dictionary`);
  return value;
}

function intField(dict: BencodeDict, name: string, min: bigint, max: bigint): number {
  const value = field(dict, name);
  if (typeof value !== "bigint" || value < min || value > max) {
    throw new KrpcDecodeError(`KRPC field ${name} is not an integer in ${min}..${max}`);
  }
  return Number(value);
}

function optionalBigInt(dict: BencodeDict, name: string): bigint | undefined {
  if (!dict.has(name)) return undefined;
  const value = dict.get(name);
  if (typeof value !== "bigint" || value < 0n || value > (1n << 63n) - 1n) {
    throw new KrpcDecodeError(`KRPC field ${name} is not an integer in 0..2^63-1`);
  }
  return value;
}
