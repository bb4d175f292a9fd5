/**
 * The BitTorrent Mainline DHT: a node (BEP 5 routing over KRPC on UDP, BEP 43
 * read-only mode, BEP 44 get and put of mutable items, as pkarr stores its
 * records) and the sans-IO parts it is made of.
 *
 * ```ts ignore
 * import { startDhtNode } from "./mod.ts";
 * const node = await startDhtNode({ bootstrap: [{ hostname: "127.0.0.1", port: 6881 }] });
 * await node.bootstrap();
 * const item = await node.getMutable(publicKey); // verified, highest seq
 * await node.close();
 * ```
 * @module
 */
export { DhtError, type DhtNode, type DhtNodeOptions, startDhtNode } from "./dht_node.ts";
export { type DhtSocket, listenUdp, MemoryDhtNetwork } from "./dht_socket.ts";
export type { DhtPeerAddress, NodeContact } from "./krpc.ts";
export {
  checkMutableItem,
  type ItemProblem,
  MAX_SALT_BYTES,
  MAX_VALUE_BYTES,
  type MutableItem,
  mutableSignable,
  mutableTarget,
  signMutableItem,
} from "./mutable_item.ts";
export {
  type BencodeDict,
  BencodeError,
  type BencodeLimits,
  type BencodeValue,
  decodeBencode,
  encodeBencode,
} from "./bencode.ts";
