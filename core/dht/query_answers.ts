/**
 * What a full node answers to each query (sans-IO): the routing table's
 * closest nodes, write tokens, stored items and peers, and BEP 5 and BEP 44's
 * errors. The node only decides whether to answer (rate, read-only) and sends.
 * @module
 */
import type { ItemStore } from "./item_store.ts";
import {
  type DhtPeerAddress,
  KrpcErrorCode,
  type KrpcQuery,
  type KrpcResponseBody,
  MAX_PEERS_PER_RESPONSE,
} from "./krpc.ts";
import type { PeerStore } from "./peer_store.ts";
import { K, type RoutingTable } from "./routing_table.ts";
import type { WriteTokens } from "./write_token.ts";

/** A response body, or an error code and message. */
export type QueryAnswer =
  | { body: KrpcResponseBody }
  | { error: { code: number; message: string } };

/** The state the answers read and write. */
export interface AnswerState {
  /** Closest nodes come from here. */
  table: RoutingTable;
  /** BEP 44 items stored for others. */
  items: ItemStore;
  /** Announced peers. */
  peers: PeerStore;
  /** Write tokens issued and checked. */
  tokens: WriteTokens;
}

const BAD_TOKEN = { error: { code: KrpcErrorCode.protocol, message: "Protocol Error: bad token" } };

/**
 * Answers one query from `from`.
 *
 * @example
 * ```ts ignore
 * const answer = answerQuery({ method: "ping" }, from, state); // { body: {} }
 * ```
 */
export function answerQuery(
  query: KrpcQuery,
  from: DhtPeerAddress,
  state: AnswerState,
): QueryAnswer {
  const { table, items, peers, tokens } = state;
  switch (query.method) {
    case "ping":
      return { body: {} };
    case "find_node":
      return { body: { nodes: table.closest(query.target, K) } };
    case "get_peers": {
      const body: KrpcResponseBody = {
        nodes: table.closest(query.infoHash, K),
        token: tokens.issue(from.hostname),
      };
      const known = peers.peers(query.infoHash, MAX_PEERS_PER_RESPONSE);
      if (known.length > 0) body.values = known;
      return { body };
    }
    case "announce_peer": {
      if (!tokens.check(from.hostname, query.token)) return BAD_TOKEN;
      const port = query.impliedPort ? from.port : query.port;
      if (port === 0) {
        return { error: { code: KrpcErrorCode.protocol, message: "Protocol Error: port 0" } };
      }
      peers.announce(query.infoHash, { hostname: from.hostname, port });
      return { body: {} };
    }
    case "get": {
      const body: KrpcResponseBody = {
        nodes: table.closest(query.target, K),
        token: tokens.issue(from.hostname),
      };
      const item = items.get(query.target);
      if (item?.kind === "immutable") body.encodedValue = item.encodedValue;
      if (item?.kind === "mutable") {
        body.seq = item.seq;
        // BEP 44: a getter that has this seq or a newer one gets the seq alone.
        if (query.seq === undefined || item.seq > query.seq) {
          body.publicKey = item.publicKey;
          body.signature = item.signature;
          body.encodedValue = item.encodedValue;
        }
      }
      return { body };
    }
    case "put": {
      if (!tokens.check(from.hostname, query.token)) return BAD_TOKEN;
      let refusal;
      if (query.publicKey === undefined) {
        refusal = items.putImmutable(query.encodedValue);
      } else if (query.signature === undefined || query.seq === undefined) {
        return {
          error: {
            code: KrpcErrorCode.protocol,
            message: "Protocol Error: mutable put without seq or sig",
          },
        };
      } else {
        refusal = items.putMutable({
          publicKey: query.publicKey,
          seq: query.seq,
          signature: query.signature,
          encodedValue: query.encodedValue,
          ...(query.salt ? { salt: query.salt } : {}),
        }, query.cas);
      }
      return refusal ? { error: refusal } : { body: {} };
    }
    case "unknown":
      return { error: { code: KrpcErrorCode.methodUnknown, message: "Method Unknown" } };
  }
}
