/**
 * The settings of every server reached by EndpointId (`tunnel server [iroh]`,
 * `tunnel vpn server`): its key, tokens, sessions, address, relays, discovery
 * and hole punching, from flags over the environment over the config file.
 * Pure but for reading the files the user names.
 * @module
 */
import {
  type AuthorizedKeys,
  parseTokensFile,
  tokenFormatError,
  TokenSet,
  TokensFileError,
} from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { parseHostPort } from "../../core/tunnel/mod.ts";
import type { Config, ModeConfig } from "../config.ts";
import { type EnvSetting, unreadableHint } from "../env.ts";
import { pick } from "../options.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { MAX_LIST_FILE_BYTES, readUserFile } from "../user_file.ts";
import { parseStatusAddress } from "../status_endpoint.ts";
import { loadSecretKey } from "./key_files.ts";
import { loadAuthorizedKeys } from "./client_key_files.ts";
import { type IceFlags, iceSettings } from "./ice_options.ts";
import { irohIce, type IrohIceSettings, type PortMappingFlags } from "./iroh_ice.ts";
import { type IrohPathFlags, resolveIrohPaths } from "./iroh_paths.ts";
import type { DhtSettings } from "./dht_flags.ts";
import type { Socks5ProxyUrl } from "../../core/socks/mod.ts";
import { type RelayToken, resolveRelayToken } from "./relay_token.ts";
import type { AllowedNetworkFlags, ConfigFlags, VerboseFlag } from "./shared_flags.ts";

/** Default `--max-sessions`. */
export const DEFAULT_MAX_SESSIONS = 100;

/** The command line of `tunnel server [iroh]`, as commander parses it. */
export interface ServerIrohFlags
  extends ConfigFlags, AllowedNetworkFlags, IrohPathFlags, IceFlags, PortMappingFlags, VerboseFlag {
  authTokens?: string[];
  authTokensFile?: string;
  authorizedKeys?: string;
  maxSessions?: number;
  secret?: string;
  secretFile?: string;
  bind?: string;
  status?: string;
}

/** What any server reached by EndpointId needs, whatever its sessions carry (forwarding, VPN). */
export interface IrohServerSettings {
  secretKey: SecretKey;
  freshKey: boolean;
  /** Accepted tokens (may be empty when keys are accepted). */
  tokens: TokenSet;
  /** Accepted client keys and the file they came from, when any is named. */
  authorizedKeys?: { keys: AuthorizedKeys; file: string };
  maxSessions: number;
  bind: { host: string; port: number };
  /** Relays to be reachable at (the first is the home relay). */
  relayUrls: string[];
  /** No relay named: the fastest of iroh's public relays is the home relay. */
  publicRelays: boolean;
  /** Reachable only through relays: the QUIC listener stays on loopback. */
  relayOnly: boolean;
  /** The pkarr relay discovery records are published to (none: no record there). */
  dnsServer?: string;
  /** The Mainline DHT the record is also published to, when asked for. */
  dht?: DhtSettings;
  /** Tor's SocksPort, which every (onion) relay connection goes through. */
  socks5Proxy?: Socks5ProxyUrl;
  /** The access token of the named relays (and a pkarr relay at their origin). */
  relayToken?: RelayToken;
  /** How to gather ICE candidates when a client punches a direct path. */
  ice: IrohIceSettings;
  /** Where to serve the status view (loopback), when asked. */
  status?: { host: string; port: number };
}

/** The environment's part in the settings: `TUNNEL_AUTH_TOKENS`, `TUNNEL_RELAY_TOKEN`. */
export interface ServerIrohEnv {
  authTokens?: EnvSetting;
  relayToken?: EnvSetting;
}

/** The command line of any server reached by EndpointId. */
export type IrohServerFlags = Omit<ServerIrohFlags, keyof AllowedNetworkFlags>;

/**
 * The settings every server reached by EndpointId shares, from flags over the
 * environment over config values.
 * @throws {UsageError} naming the first bad or missing setting.
 */
export async function resolveIrohServerSettings(
  flags: IrohServerFlags,
  config?: Config<"server", "iroh">,
  env: ServerIrohEnv = {},
): Promise<IrohServerSettings> {
  const file = config?.values ?? {};

  let secretKey: SecretKey | undefined;
  if (flags.secret !== undefined && flags.secretFile !== undefined) {
    throw new UsageError("Use either --secret or --secret-file, not both");
  }
  if (flags.secret !== undefined) secretKey = asUsageError(() => SecretKey.parse(flags.secret!));
  else if (flags.secretFile !== undefined) secretKey = await loadSecretKey(flags.secretFile);
  else if (file.secret !== undefined) secretKey = asUsageError(() => SecretKey.parse(file.secret!));
  else if (file.secret_file !== undefined) secretKey = await loadSecretKey(file.secret_file);

  const tokens = await resolveTokens(flags, env, file, config?.path);
  const keysFile = pick(flags.authorizedKeys, file.authorized_keys);
  const authorizedKeys = keysFile === undefined
    ? undefined
    : { keys: await loadAuthorizedKeys(keysFile), file: keysFile };
  if (tokens.length === 0 && authorizedKeys === undefined) {
    throw new UsageError(
      "No auth tokens or client keys configured: list client keys (from 'tunnel " +
        "generate-client-key') in --authorized-keys FILE, or generate a token with 'tunnel " +
        "generate-token' and pass --auth-tokens TOKEN, --auth-tokens-file FILE or " +
        "TUNNEL_AUTH_TOKENS" + unreadableHint(env.authTokens),
    );
  }
  const maxSessions = pick(flags.maxSessions, file.max_sessions) ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new UsageError(`Invalid max_sessions ${maxSessions}: must be a positive integer`);
  }
  const bindText = pick(flags.bind, file.bind);
  const paths = resolveIrohPaths(flags, file, config?.path);
  if (paths.dnsServer?.startsWith("dns:")) {
    // DNS only reads records; publishing takes a pkarr relay.
    throw new UsageError(
      `Cannot publish to ${paths.dnsServer}: a server publishes to a pkarr relay (--dns-server http(s)://HOST/pkarr); dns:// is for clients' lookups`,
    );
  }
  const relayToken = await resolveRelayToken(
    flags,
    env.relayToken,
    file,
    config?.path,
    paths.relayUrls,
  );
  if (paths.relayOnly && bindText !== undefined) {
    throw new UsageError("--relay-only offers no direct address: drop --bind (or 'bind')");
  }
  const ice = iceSettings(flags, file.stun_servers, []);
  const stunNamed = flags.stun === false || (flags.stunServer ?? file.stun_servers) !== undefined;
  return {
    status: flags.status === undefined ? undefined : parseStatusAddress(flags.status),
    ...paths,
    relayToken,
    ice: irohIce(
      ice,
      stunNamed,
      !paths.relayOnly && flags.portMapping !== false && file.port_mapping !== false,
    ),
    secretKey: secretKey ?? SecretKey.generate(),
    freshKey: secretKey === undefined,
    tokens: new TokenSet(tokens),
    authorizedKeys,
    maxSessions,
    bind: paths.relayOnly
      ? { host: "127.0.0.1", port: 0 }
      : bindText === undefined
      ? { host: "::", port: 0 }
      : asUsageError(() => parseHostPort(bindText, "--bind address")),
  };
}

/**
 * The accepted tokens, from the first of: the command line (`--auth-tokens`,
 * `--auth-tokens-file`), `TUNNEL_AUTH_TOKENS`, the config file. A source
 * replaces the ones after it, like every other setting. None is no error here:
 * a server may accept client keys alone.
 */
async function resolveTokens(
  flags: IrohServerFlags,
  env: ServerIrohEnv,
  file: ModeConfig<"server", "iroh">,
  configPath: string | undefined,
): Promise<string[]> {
  const tokens: string[] = [];
  const fromList = (list: string[], where: string) => {
    for (const token of list) {
      const problem = tokenFormatError(token.trim());
      if (problem) {
        throw new UsageError(
          `Invalid auth token in ${where}: ${problem}; generate one with 'tunnel generate-token'`,
        );
      }
      tokens.push(token.trim());
    }
  };
  const fromFile = async (path: string) => {
    const text = await readUserFile(path, "tokens file", MAX_LIST_FILE_BYTES);
    try {
      tokens.push(...parseTokensFile(text, path));
    } catch (error) {
      if (!(error instanceof TokensFileError)) throw error;
      throw new UsageError(
        `${error.message}; check it was copied whole (tokens come from 'tunnel generate-token')`,
        { cause: error },
      );
    }
  };
  const envTokens = (env.authTokens?.value ?? "").split(/[\s,]+/).filter(Boolean);
  if (flags.authTokens !== undefined || flags.authTokensFile !== undefined) {
    fromList(flags.authTokens ?? [], "--auth-tokens");
    if (flags.authTokensFile !== undefined) await fromFile(flags.authTokensFile);
  } else if (envTokens.length > 0) {
    fromList(envTokens, "TUNNEL_AUTH_TOKENS");
  } else {
    fromList(file.auth_tokens ?? [], `'auth_tokens' of config '${configPath}'`);
    if (file.auth_tokens_file !== undefined) await fromFile(file.auth_tokens_file);
  }
  return tokens;
}
