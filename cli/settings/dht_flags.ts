/**
 * The Mainline DHT flags (`--dht`, `--no-dht`, `--dht-bootstrap HOST:PORT`)
 * and config keys (`dht`, `dht_bootstrap`), shared by the iroh-mode server and
 * client, the VPN commands and `tunnel relay`. The DHT is used only when asked
 * for: a record put there is readable by anyone who knows the key, from nodes
 * no one runs, and iroh endpoints do not look there by default either.
 * @module
 */
import { type Command, Option } from "commander";
import { parseHostPort } from "../../core/tunnel/mod.ts";
import { repeatable } from "../options.ts";
import { asUsageError, UsageError } from "../usage_error.ts";

/**
 * The Mainline DHT's well-known bootstrap nodes (those BitTorrent clients and
 * pkarr start from), the default of `--dht-bootstrap`.
 */
export const PUBLIC_DHT_BOOTSTRAP: readonly string[] = [
  "router.bittorrent.com:6881",
  "dht.transmissionbt.com:6881",
  "dht.libtorrent.org:25401",
  "router.utorrent.com:6881",
];

/** Most bootstrap nodes named: more only slows the start. */
export const MAX_DHT_BOOTSTRAP = 32;

/** The DHT flags, as commander parses them. */
export interface DhtFlags {
  /** true with `--dht`, false with `--no-dht`. */
  dht?: boolean;
  dhtBootstrap?: string[];
}

/** The config keys beside the flags. */
export interface DhtConfig {
  dht?: boolean;
  dht_bootstrap?: string[];
}

/** The DHT settings, checked: undefined when the DHT is not used. */
export interface DhtSettings {
  /** Where the node joins the DHT. */
  bootstrap: { hostname: string; port: number }[];
  /** The public bootstrap nodes (none named). */
  publicBootstrap: boolean;
}

/** What the DHT does for each command, for its help. */
const HELP = {
  server: "also publish the discovery record to the BitTorrent Mainline DHT (serverless)",
  client: "also look the server's record up in the BitTorrent Mainline DHT",
  relay:
    "republish the records this relay stores into the Mainline DHT, and look up there what it lacks",
} as const;

/** Adds `--dht`, `--no-dht` and `--dht-bootstrap` to `command`. */
export function dhtOptions(command: Command, role: keyof typeof HELP): Command {
  return command
    .addOption(new Option("--dht", HELP[role]))
    .addOption(new Option("--no-dht", "do not use the Mainline DHT (overrides 'dht' in a config)"))
    .addOption(
      repeatable(
        "--dht-bootstrap <host:port>",
        "a DHT node to join through; implies --dht (repeatable; default: the public bootstrap nodes)",
      ),
    );
}

/**
 * Resolves the DHT flags over the config file's `dht` and `dht_bootstrap`
 * (flags win: `--no-dht` overrides `dht = true`, `--dht-bootstrap` replaces
 * the config's list).
 * @param configPath The config file's path, for messages about its keys.
 * @throws {UsageError} for contradictory flags or keys, or a malformed address.
 */
export function resolveDht(
  flags: DhtFlags,
  file: DhtConfig,
  configPath?: string,
): DhtSettings | undefined {
  if (flags.dht === false && flags.dhtBootstrap !== undefined) {
    throw new UsageError("Use either --dht-bootstrap or --no-dht, not both");
  }
  if (file.dht === false && file.dht_bootstrap !== undefined) {
    throw new UsageError(
      `Config '${configPath}' sets both 'dht_bootstrap' and 'dht = false': keep one`,
    );
  }
  const on = flags.dht === false ? false : flags.dht === true || flags.dhtBootstrap !== undefined ||
    file.dht === true || file.dht_bootstrap !== undefined;
  if (!on) return undefined;
  const named = flags.dhtBootstrap ?? file.dht_bootstrap;
  const where = flags.dhtBootstrap !== undefined
    ? "--dht-bootstrap"
    : `'dht_bootstrap' of config '${configPath}'`;
  if (named !== undefined && named.length === 0) {
    throw new UsageError(`${where} names no node: name one, or drop it for the public ones`);
  }
  if (named !== undefined && named.length > MAX_DHT_BOOTSTRAP) {
    throw new UsageError(
      `${where} names ${named.length} nodes; at most ${MAX_DHT_BOOTSTRAP} are used`,
    );
  }
  const bootstrap = (named ?? PUBLIC_DHT_BOOTSTRAP).map((text) => {
    const { host, port } = asUsageError(() => parseHostPort(text, where));
    if (port === 0) throw new UsageError(`Invalid ${where} '${text}': port 0 is no node`);
    return { hostname: host, port };
  });
  return { bootstrap, publicBootstrap: named === undefined };
}
