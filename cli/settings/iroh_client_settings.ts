/**
 * The settings every client reached by EndpointId shares (`tunnel client
 * [iroh]`, `tunnel vpn client`): its command line and its credential (a token or
 * a client key), from flags over the environment over the config file.
 * @module
 */
import { type ClientKey, tokenFormatError } from "../../core/auth/mod.ts";
import type { ModeConfig } from "../config.ts";
import { type EnvSetting, unreadableHint } from "../env.ts";
import { UsageError } from "../usage_error.ts";
import { MAX_TOKEN_FILE_BYTES, readUserFile } from "../user_file.ts";
import { loadClientKey } from "./client_key_files.ts";
import type { IceFlags } from "./ice_options.ts";
import type { IrohPathFlags } from "./iroh_paths.ts";
import type { ConfigFlags, ForwardFlags, VerboseFlag } from "./shared_flags.ts";
import type { PortMappingFlags } from "./iroh_ice.ts";

/** The command line of `tunnel client [iroh]`, as commander parses it. */
export interface ClientIrohFlags
  extends ConfigFlags, ForwardFlags, IrohPathFlags, IceFlags, PortMappingFlags, VerboseFlag {
  serverNodeId?: string;
  serverAddr?: string[];
  authToken?: string;
  authTokenFile?: string;
  clientKey?: string;
  /** false with `--no-reconnect`. */
  reconnect?: boolean;
  status?: string;
}

/** The environment's part in the settings: `TUNNEL_AUTH_TOKEN`, `TUNNEL_RELAY_TOKEN`. */
export interface ClientIrohEnv {
  authToken?: EnvSetting;
  relayToken?: EnvSetting;
}

/**
 * What the client authenticates with: a client key (its secret key file) or a
 * token. The command line decides first (`--client-key`, or a token's flags,
 * never both), then `TUNNEL_AUTH_TOKEN`, then the config file (`client_key`, or
 * a token's keys, never both).
 * @throws {UsageError} for both at once, a bad key file, or what {@linkcode resolveToken} refuses.
 */
export async function resolveCredential(
  flags: Pick<ClientIrohFlags, "authToken" | "authTokenFile" | "clientKey">,
  env: ClientIrohEnv,
  file: Pick<ModeConfig<"client", "iroh">, "auth_token" | "auth_token_file" | "client_key">,
  configPath: string | undefined,
): Promise<string | ClientKey> {
  const flagToken = flags.authToken !== undefined || flags.authTokenFile !== undefined;
  if (flags.clientKey !== undefined) {
    if (flagToken) {
      throw new UsageError(
        "Use either --client-key or --auth-token/--auth-token-file, not both",
      );
    }
    return await loadClientKey(flags.clientKey);
  }
  if (!flagToken && env.authToken?.value === undefined && file.client_key !== undefined) {
    if (file.auth_token !== undefined || file.auth_token_file !== undefined) {
      throw new UsageError(
        `Config '${configPath}' sets both 'client_key' and a token: keep one`,
      );
    }
    return await loadClientKey(file.client_key);
  }
  return await resolveToken(flags, env, file, configPath);
}

/**
 * The token, from the first of: the command line (`--auth-token`,
 * `--auth-token-file`), `TUNNEL_AUTH_TOKEN`, the config file. Only the
 * server's operator can issue one, so that is where the messages send the user.
 */
export async function resolveToken(
  flags: Pick<ClientIrohFlags, "authToken" | "authTokenFile">,
  env: ClientIrohEnv,
  file: Pick<ModeConfig<"client", "iroh">, "auth_token" | "auth_token_file">,
  configPath: string | undefined,
): Promise<string> {
  if (flags.authToken !== undefined && flags.authTokenFile !== undefined) {
    throw new UsageError("Use either --auth-token or --auth-token-file, not both");
  }
  const readTokenFile = (path: string) => readUserFile(path, "token file", MAX_TOKEN_FILE_BYTES);
  let text: string | undefined;
  let where = "";
  if (flags.authToken !== undefined) {
    [text, where] = [flags.authToken, "--auth-token"];
  } else if (flags.authTokenFile !== undefined) {
    [text, where] = [
      await readTokenFile(flags.authTokenFile),
      `token file '${flags.authTokenFile}'`,
    ];
  } else if (env.authToken?.value !== undefined) {
    [text, where] = [env.authToken.value, "TUNNEL_AUTH_TOKEN"];
  } else if (file.auth_token !== undefined) {
    [text, where] = [file.auth_token, `'auth_token' of config '${configPath}'`];
  } else if (file.auth_token_file !== undefined) {
    [text, where] = [
      await readTokenFile(file.auth_token_file),
      `token file '${file.auth_token_file}'`,
    ];
  }
  if (text === undefined) {
    throw new UsageError(
      "Missing --auth-token (or --auth-token-file, TUNNEL_AUTH_TOKEN, or 'auth_token' in the " +
        "config file) or --client-key FILE (a key the server lists, from 'tunnel " +
        "generate-client-key'): ask the server's operator for one" + unreadableHint(env.authToken),
    );
  }
  const problem = tokenFormatError(text.trim());
  if (problem) {
    throw new UsageError(
      `Invalid auth token in ${where}: ${problem}; ask the server's operator for a valid token`,
    );
  }
  return text.trim();
}
