/**
 * `--socks5-proxy socks5h://HOST:PORT` (`socks5_proxy` in a config): reach a
 * self-hosted relay that is a Tor onion service through Tor's SocksPort, with
 * tunnel-rs's rules. The proxy carries only the relay connection, so every
 * relay must be a `.onion` (anything else would go around Tor or through it for
 * nothing), discovery is off (records cannot be published or looked up through
 * Tor: the relay is how peers find each other), and the proxy must prove to be
 * Tor at start-up. Direct and hole-punched paths still go straight (they bypass
 * Tor); `--relay-only` keeps everything inside it.
 * @module
 */
import type { Command } from "commander";
import {
  checkTorProxy,
  connectThroughSocks5,
  parseSocks5ProxyUrl,
  type Socks5ProxyUrl,
} from "../../core/socks/mod.ts";
import type { WebSocketDial } from "../../core/relay/mod.ts";
import { formatHostPort } from "../../core/tunnel/mod.ts";
import { asUsageError, UsageError } from "../usage_error.ts";

/** How long one relay connection through Tor may take to open (a cold onion circuit included). */
export const TOR_CONNECT_TIMEOUT_MS = 60_000;
/** How long each step of the start-up check that the proxy is Tor may take. */
export const TOR_CHECK_TIMEOUT_MS = 10_000;

/** The flag, as commander parses it. */
export interface SocksProxyFlags {
  socks5Proxy?: string;
}

/** Adds `--socks5-proxy`. */
export function socksProxyOption(command: Command): Command {
  return command.option(
    "--socks5-proxy <url>",
    "reach the .onion relays through Tor's SocksPort (socks5h://HOST:PORT); turns discovery off",
  );
}

/** What the proxy rules need of the path settings. */
export interface ProxiedPaths {
  relayUrls: readonly string[];
  /** No relay named: the public relays (not onion services) would be used. */
  publicRelays: boolean;
  /** A pkarr relay or DNS server the user named (not the default). */
  namedDnsServer?: string;
  /** The DHT, when asked for. */
  dht?: unknown;
}

/**
 * Reads `--socks5-proxy` (over the config's `socks5_proxy`) and checks it
 * against the paths: undefined without a proxy.
 * @throws {UsageError} one line: a URL that is not `socks5h://HOST:PORT`, a
 *   relay that is not a `.onion`, no relay, discovery named beside it; and, without
 *   a proxy, a `.onion` relay (which only Tor can reach).
 */
export function resolveSocksProxy(
  flags: SocksProxyFlags,
  file: { socks5_proxy?: string },
  paths: ProxiedPaths,
  configPath?: string,
): Socks5ProxyUrl | undefined {
  const text = flags.socks5Proxy ?? file.socks5_proxy;
  const onions = paths.relayUrls.filter(isOnionUrl);
  if (text === undefined) {
    if (onions.length > 0) {
      throw new UsageError(
        `The relay ${
          onions[0]
        } is a Tor onion service: pass --socks5-proxy socks5h://127.0.0.1:9050 (Tor's SocksPort)`,
      );
    }
    return undefined;
  }
  const where = flags.socks5Proxy !== undefined
    ? "--socks5-proxy"
    : `'socks5_proxy' of config '${configPath}'`;
  const proxy = asUsageError(() => parseSocks5ProxyUrl(text));
  if (paths.publicRelays || paths.relayUrls.length === 0) {
    throw new UsageError(
      `${where} reaches only .onion relays: name yours with --relay-url http://<onion>.onion/`,
    );
  }
  const other = paths.relayUrls.find((url) => !isOnionUrl(url));
  if (other !== undefined) {
    throw new UsageError(
      `${where} carries only .onion relays, and ${other} is not one: name only onion relays, or drop ${where}`,
    );
  }
  if (paths.namedDnsServer !== undefined) {
    throw new UsageError(
      `Use either ${where} or --dns-server, not both: through Tor the relay is how peers find each other`,
    );
  }
  if (paths.dht !== undefined) {
    throw new UsageError(
      `Use either ${where} or the DHT (--dht, --dht-bootstrap), not both: the DHT speaks UDP, which Tor does not carry`,
    );
  }
  return proxy;
}

/**
 * Checks that the proxy is Tor (offline: how its SocksPort answers HTTP and a
 * SOCKS5 greeting), then returns the dial every relay connection takes.
 * @throws {Error} one line naming the proxy and what it did.
 */
export async function torRelayDial(proxy: Socks5ProxyUrl): Promise<WebSocketDial> {
  const check = await checkTorProxy(proxy, { timeoutMs: TOR_CHECK_TIMEOUT_MS });
  if (!check.ok) {
    throw new Error(
      `--socks5-proxy ${formatHostPort(proxy.hostname, proxy.port)} is not usable: ${check.error}`,
    );
  }
  return (hostname, port) =>
    connectThroughSocks5(proxy, { hostname, port }, {
      timeoutMs: TOR_CONNECT_TIMEOUT_MS,
      ...proxy.credentials,
    });
}

/** Whether a relay URL names a Tor onion service. */
export function isOnionUrl(url: string): boolean {
  try {
    return new URL(url).hostname.toLowerCase().endsWith(".onion");
  } catch {
    return false;
  }
}
