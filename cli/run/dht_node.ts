/**
 * The Mainline DHT node a command runs when asked (`--dht`, `--dht-bootstrap`):
 * started before the first publish or lookup, joined in the background, and
 * closed with the command. Servers and clients run read-only nodes (BEP 43):
 * behind NAT they could not answer others, and they need not be found.
 * `tunnel relay` runs a full node.
 * @module
 */
import { type DhtNode, startDhtNode } from "../../core/dht/mod.ts";
import { formatHostPort } from "../../core/tunnel/mod.ts";
import type { Output } from "../output.ts";
import type { DhtSettings } from "../settings/dht_flags.ts";

/**
 * Starts a DHT node and joins through the bootstrap nodes in the background
 * (a lookup or put meanwhile starts from them); the outcome is one line.
 * @throws {Error} when the UDP socket cannot be opened.
 */
export async function openDhtNode(
  settings: DhtSettings,
  out: Output,
  options: { readOnly: boolean },
): Promise<DhtNode> {
  let node: DhtNode;
  try {
    node = await startDhtNode({
      bootstrap: settings.bootstrap,
      readOnly: options.readOnly,
      log: (line) => out.debug(line.startsWith("DHT") ? line : `DHT: ${line}`),
    });
  } catch (error) {
    throw new Error(`Cannot open a UDP socket for the DHT: ${(error as Error).message}`);
  }
  const through = settings.publicBootstrap
    ? "the public bootstrap nodes"
    : settings.bootstrap.map((node) => formatHostPort(node.hostname, node.port)).join(", ");
  out.debug(`DHT: joining through ${through}`);
  node.bootstrap().then(
    (size) => {
      if (size > 0) out.info(`DHT: joined (${size} nodes known)`);
      else out.warn(`DHT: no node answered from ${through}; trying again every minute`);
    },
    (error: Error) => out.warn(`DHT: cannot join through ${through}: ${error.message}`),
  );
  return node;
}
