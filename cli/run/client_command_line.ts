/**
 * The command a server prints for its clients: the flags a client needs to
 * reach this server as it was started (its relays, its discovery, or an
 * address when it has neither), so the line works when copied.
 * @module
 */
import { isLoopbackAddress } from "../../core/net/mod.ts";
import { formatHostPort, parseHostPort } from "../../core/tunnel/mod.ts";
import { PUBLIC_PKARR_URL } from "../settings/iroh_paths.ts";
import type { DhtSettings } from "../settings/dht_flags.ts";

/** How the server was started, as far as its clients care. */
export interface ServerReach {
  /** Its EndpointId. */
  endpointId: string;
  /** The relays it is present at (the public home relay too). */
  relayUrls: readonly string[];
  /** Whether those relays are iroh's public ones (clients learn them from the record). */
  publicRelays: boolean;
  /** Its pkarr relay; undefined with `--no-dns`. */
  dnsServer?: string;
  /** The DHT it publishes to, when it does. */
  dht?: DhtSettings;
  /** The SOCKS5 proxy (Tor) its onion relays are reached through. */
  socks5Proxy?: { hostname: string; port: number };
  /** Its direct addresses as it prints them. */
  directAddrs: readonly string[];
  /** Whether its relays want an access token. */
  relayToken: boolean;
  /** How clients prove themselves: tokens, client keys, or either. */
  credentials: "tokens" | "keys" | "either";
}

/**
 * The flags after `tunnel <command> client` that reach the server and prove
 * the client, with placeholders in angle brackets for what the server cannot
 * know (the token or key file, a host name when it listens on every interface).
 */
export function clientReachFlags(reach: ServerReach): string[] {
  const flags = ["--server-node-id", reach.endpointId];
  const discovered = reach.dnsServer !== undefined || reach.dht !== undefined;
  if (reach.dnsServer !== undefined && reach.dnsServer !== PUBLIC_PKARR_URL) {
    flags.push("--dns-server", reach.dnsServer);
  }
  if (reach.dht?.publicBootstrap) flags.push("--dht");
  else if (reach.dht) {
    for (const node of reach.dht.bootstrap) {
      flags.push("--dht-bootstrap", formatHostPort(node.hostname, node.port));
    }
  }
  // Named relays are in the record too, but a client without the record needs them.
  if (!reach.publicRelays || !discovered) {
    for (const url of reach.relayUrls) flags.push("--relay-url", url);
  }
  if (reach.relayToken && reach.relayUrls.length > 0) flags.push("--relay-token", "<RELAY_TOKEN>");
  if (reach.socks5Proxy) {
    // The client's own Tor, most often at the same default address.
    const { hostname, port } = reach.socks5Proxy;
    flags.push("--socks5-proxy", `socks5h://${formatHostPort(hostname, port)}`);
  }
  // With a proxy, discovery is off by itself.
  if (reach.dnsServer === undefined && !reach.socks5Proxy) flags.push("--no-dns");
  if (!discovered) {
    if (reach.relayUrls.length === 0) flags.push("--server-addr", serverAddr(reach.directAddrs));
  }
  // A server taking both shows the token form; the docs tell of the other.
  if (reach.credentials === "keys") flags.push("--client-key", "<KEY_FILE>");
  else flags.push("--auth-token", "<TOKEN>");
  return flags;
}

/** The address a client elsewhere can dial: not loopback when another exists. */
function serverAddr(directAddrs: readonly string[]): string {
  const dialable = directAddrs.flatMap((text) => {
    try {
      return [{ text, host: parseHostPort(text).host }];
    } catch {
      return [];
    }
  });
  const reachable = dialable.find((addr) => !isLoopbackAddress(addr.host)) ?? dialable[0];
  if (reachable) return reachable.text;
  // Bound to every interface and no address found: the port is all it knows.
  const port = directAddrs[0]?.match(/:(\d+)/)?.[1];
  return `<HOST>:${port ?? "<PORT>"}`;
}
