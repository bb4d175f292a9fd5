/**
 * The flags that say how iroh-mode peers reach each other, shared by server
 * and client: relays (`--relay-url`, `--no-relay`, `--relay-only`, and the
 * token of one's own relay, `--relay-token`, `--relay-token-file`) and
 * discovery (`--dns-server`, `--no-dns`, `--dht`), and Tor for onion relays
 * (`--socks5-proxy`). Unless told otherwise both use iroh's public relays and
 * pkarr relay, as iroh does.
 * @module
 */
import { type Command, Option } from "commander";
import { parseDnsServerUrl } from "../../core/discovery/mod.ts";
import { relayWebSocketUrl } from "../../core/relay/mod.ts";
import { pick, repeatable } from "../options.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { checkHttpUrl } from "./shared_flags.ts";
import { refuseUrlCredentials, type RelayTokenFlags } from "./relay_token.ts";
import {
  type DhtConfig,
  type DhtFlags,
  dhtOptions,
  type DhtSettings,
  resolveDht,
} from "./dht_flags.ts";
import { resolveSocksProxy, type SocksProxyFlags, socksProxyOption } from "./socks_proxy.ts";
import type { Socks5ProxyUrl } from "../../core/socks/mod.ts";

/** iroh's public relays (iroh 1.0's default relay map). */
export const PUBLIC_RELAY_URLS: readonly string[] = [
  "https://use1-1.relay.n0.iroh.link/",
  "https://usw1-1.relay.n0.iroh.link/",
  "https://euc1-1.relay.n0.iroh.link/",
  "https://aps1-1.relay.n0.iroh.link/",
];
/** iroh's public pkarr relay, where iroh endpoints publish their records. */
export const PUBLIC_PKARR_URL = "https://dns.iroh.link/pkarr";

/** The path flags, as commander parses them. */
export interface IrohPathFlags extends RelayTokenFlags, DhtFlags, SocksProxyFlags {
  relayUrl?: string[];
  /** false with `--no-relay`. */
  relay?: boolean;
  relayOnly?: boolean;
  dnsServer?: string;
  /** false with `--no-dns`. */
  dns?: boolean;
}

/** The path settings, checked. */
export interface IrohPaths {
  /** The relays the user named (flag, else config); empty with `--no-relay`. */
  relayUrls: string[];
  /** No relay named and none refused: iroh's public relays are the ones to use. */
  publicRelays: boolean;
  /** Only relay paths (a testing aid: no direct address is used or offered). */
  relayOnly: boolean;
  /** Where records are published and looked up; undefined with `--no-dns`. */
  dnsServer?: string;
  /** No pkarr relay named and discovery not turned off: iroh's public one is the one to use. */
  publicDns: boolean;
  /** The Mainline DHT, when asked for (`--dht`, `--dht-bootstrap`). */
  dht?: DhtSettings;
  /** Tor's SocksPort, which every (onion) relay connection goes through (`--socks5-proxy`). */
  socks5Proxy?: Socks5ProxyUrl;
}

/** Adds the path flags; the descriptions say what each does for `role`. */
export function irohPathOptions(command: Command, role: "server" | "client"): Command {
  const relayHelp = role === "server"
    ? "be reachable through this relay; the first is the home relay (repeatable; default: the fastest of iroh's public relays)"
    : "a relay the server is reachable at, besides those its discovery record names (repeatable)";
  const dnsHelp = role === "server"
    ? `publish a signed discovery record to this pkarr relay (default ${PUBLIC_PKARR_URL})`
    : `look the server's discovery record up at this pkarr relay, or with a DNS TXT query to dns://IP:PORT/ORIGIN (default ${PUBLIC_PKARR_URL})`;
  return socksProxyOption(dhtOptions(command, role))
    .addOption(repeatable("--relay-url <url>", relayHelp))
    .addOption(
      new Option(
        "--no-relay",
        role === "server"
          ? "use no relay: reachable only at direct addresses"
          : "use no relay path, not even one the discovery record names",
      ),
    )
    .option(
      "--relay-only",
      "testing aid: only relay paths, never a direct address",
    )
    .option(
      "--relay-token <token>",
      "access token of the relays named with --relay-url (tunnel relay --access-token); sent only to them",
    )
    .option("--relay-token-file <file>", "file holding the --relay-token")
    .option("--dns-server <url>", dnsHelp)
    .addOption(
      new Option(
        "--no-dns",
        role === "server" ? "publish no discovery record" : "do not look the server up",
      ),
    );
}

/**
 * Resolves the path flags over the config file's `relay_urls`, `dns_server`,
 * `no_dns`, `dht` and `dht_bootstrap` (flags win: `--dns-server` overrides
 * `no_dns = true`).
 * @param configPath The config file's path, for messages about its keys.
 * @throws {UsageError} naming a malformed URL, a URL carrying credentials, or
 *   contradictory flags.
 */
export function resolveIrohPaths(
  flags: IrohPathFlags,
  file:
    & { relay_urls?: string[]; dns_server?: string; no_dns?: boolean; socks5_proxy?: string }
    & DhtConfig,
  configPath?: string,
): IrohPaths {
  const noRelay = flags.relay === false;
  if (file.no_dns === true && file.dns_server !== undefined) {
    throw new UsageError(
      `Config '${configPath}' sets both 'dns_server' and 'no_dns = true': keep one`,
    );
  }
  const noDns = flags.dns === false || (flags.dnsServer === undefined && file.no_dns === true);
  if (noRelay && flags.relayUrl !== undefined) {
    throw new UsageError("Use either --relay-url or --no-relay, not both");
  }
  if (noRelay && flags.relayOnly) {
    throw new UsageError("--relay-only needs a relay: drop --no-relay");
  }
  if (noDns && flags.dnsServer !== undefined) {
    throw new UsageError("Use either --dns-server or --no-dns, not both");
  }
  const named = noRelay ? [] : pick(flags.relayUrl, file.relay_urls);
  const inConfig = (key: string) => `'${key}' of config '${configPath}'`;
  for (const url of named ?? []) {
    // URLs are printed and published in the discovery record: no secret may ride in one.
    refuseUrlCredentials(
      url,
      flags.relayUrl !== undefined ? "--relay-url" : inConfig("relay_urls"),
    );
    asUsageError(() => relayWebSocketUrl(url));
  }
  if (flags.relayOnly && named !== undefined && named.length === 0) {
    throw new UsageError("--relay-only needs a relay: relay_urls in the config is empty");
  }
  const namedDns = noDns ? undefined : pick(flags.dnsServer, file.dns_server);
  const dnsServer = noDns ? undefined : namedDns ?? PUBLIC_PKARR_URL;
  if (dnsServer !== undefined) {
    refuseUrlCredentials(
      dnsServer,
      flags.dnsServer !== undefined ? "--dns-server" : inConfig("dns_server"),
    );
    const flag = flags.dnsServer !== undefined ? "--dns-server" : inConfig("dns_server");
    if (dnsServer.startsWith("dns:")) asUsageError(() => parseDnsServerUrl(dnsServer, flag));
    else asUsageError(() => checkHttpUrl(dnsServer, "--dns-server"));
  }
  const dht = resolveDht(flags, file, configPath);
  const socks5Proxy = resolveSocksProxy(flags, file, {
    relayUrls: named ?? [],
    publicRelays: named === undefined,
    namedDnsServer: namedDns,
    dht,
  }, configPath);
  return {
    relayUrls: named ?? [],
    publicRelays: named === undefined,
    relayOnly: flags.relayOnly === true,
    // Through Tor there is no discovery: the relay is how peers find each other.
    dnsServer: socks5Proxy ? undefined : dnsServer,
    publicDns: !socks5Proxy && !noDns && namedDns === undefined,
    ...(dht ? { dht } : {}),
    ...(socks5Proxy ? { socks5Proxy } : {}),
  };
}
