/**
 * The access token of the user's own relay (`tunnel relay --access-token`):
 * where it comes from (`--relay-token`, `--relay-token-file`,
 * `TUNNEL_RELAY_TOKEN`, `relay_token` / `relay_token_file` in the config) and
 * where it may go: only to the relays the user named, and to a pkarr URL at
 * the same origin as one of them, never to a third party (iroh's public relays
 * or pkarr relay). It is never printed, and a relay URL that carries
 * credentials itself is refused, since URLs are printed and published.
 * @module
 */
import type { RelayRefusedError } from "../../core/relay/mod.ts";
import type { EnvSetting } from "../env.ts";
import { UsageError } from "../usage_error.ts";
import { MAX_TOKEN_FILE_BYTES, readUserFile } from "../user_file.ts";

/** The token flags, as commander parses them. */
export interface RelayTokenFlags {
  relayToken?: string;
  relayTokenFile?: string;
}

/** The config keys of the token (`[iroh]` sections). */
export interface RelayTokenConfig {
  relay_token?: string;
  relay_token_file?: string;
}

/** The flags the refusal messages name: they are the way to pass a token instead. */
const TOKEN_FLAGS = "--relay-token or --relay-token-file";

/** A longer token is surely a wrong file: tokens are a few dozen characters. */
const MAX_RELAY_TOKEN_LENGTH = 1_024;

/**
 * A relay access token and the origins it may be sent to. Printing it (a
 * template string, `console.log`, JSON) shows no secret.
 *
 * @example
 * ```ts
 * const token = new RelayToken("s3cret", ["https://relay.example:3340/"]);
 * token.for("https://relay.example:3340/pkarr"); // "s3cret"
 * token.for("https://dns.iroh.link/pkarr"); // undefined
 * String(token); // "[relay token]"
 * ```
 */
export class RelayToken {
  readonly #token: string;
  readonly #origins: Set<string>;

  /** The token `token`, for the relays at `relayUrls` (and other paths at their origins). */
  constructor(token: string, relayUrls: readonly string[]) {
    this.#token = token;
    this.#origins = new Set(relayUrls.map(originOf).filter((o): o is string => o !== undefined));
  }

  /** The token when `url` is at the origin of a named relay; else undefined. */
  for(url: string): string | undefined {
    const origin = originOf(url);
    return origin !== undefined && this.#origins.has(origin) ? this.#token : undefined;
  }

  /** Never the token. */
  toString(): string {
    return "[relay token]";
  }

  /** Never the token. */
  toJSON(): string {
    return this.toString();
  }

  /** Never the token (`console.log`, `Deno.inspect`). */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

/**
 * The origin of an http(s) or ws(s) URL, WebSocket schemes counted as their
 * HTTP ones (a relay's `/relay` and `/pkarr` share a listener); undefined
 * when `url` is not a URL.
 */
export function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "ws:") parsed.protocol = "http:";
    if (parsed.protocol === "wss:") parsed.protocol = "https:";
    return parsed.origin === "null" ? undefined : parsed.origin;
  } catch {
    return undefined;
  }
}

/**
 * What in `url` is a credential, described without its value (`?token=`,
 * `user:pass@`), or undefined when it carries none. Any query counts: a relay
 * URL has no use for one, and whatever it holds would be printed and published.
 */
export function urlCredentials(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // not a URL: the URL checks say so
  }
  if (parsed.username || parsed.password) return parsed.password ? "user:pass@" : "user@";
  if (parsed.search) return parsed.searchParams.has("token") ? "?token=" : "a query (?…)";
  return undefined;
}

/**
 * Refuses a relay or pkarr URL that carries credentials.
 * @param where The flag (`--relay-url`) or config key (`'relay_urls' of config 'x.toml'`).
 * @throws {UsageError} "<where> must not carry credentials (found ?token=): pass the token
 *   with --relay-token or --relay-token-file" (for a config key: the config keys).
 */
export function refuseUrlCredentials(url: string, where: string): void {
  const found = urlCredentials(url);
  if (found === undefined) return;
  const instead = where.startsWith("--")
    ? `pass the token with ${TOKEN_FLAGS}`
    : "put the token in 'relay_token' or 'relay_token_file'";
  throw new UsageError(`${where} must not carry credentials (found ${found}): ${instead}`);
}

/**
 * The relay token from the first of: the command line (`--relay-token`,
 * `--relay-token-file`), `TUNNEL_RELAY_TOKEN`, the config file; undefined when
 * none gives one.
 * @param relayUrls The relays the user named: the token goes to them only.
 * @throws {UsageError} for two sources of one level, a malformed token (not
 *   shown), or a token with no relay named to send it to.
 * @throws {Error} when a token file cannot be read.
 */
export async function resolveRelayToken(
  flags: RelayTokenFlags,
  env: EnvSetting | undefined,
  file: RelayTokenConfig,
  configPath: string | undefined,
  relayUrls: readonly string[],
): Promise<RelayToken | undefined> {
  if (flags.relayToken !== undefined && flags.relayTokenFile !== undefined) {
    throw new UsageError("Use either --relay-token or --relay-token-file, not both");
  }
  if (file.relay_token !== undefined && file.relay_token_file !== undefined) {
    throw new UsageError(
      `Use either 'relay_token' or 'relay_token_file' in config '${configPath}', not both`,
    );
  }
  const readTokenFile = (path: string) =>
    readUserFile(path, "relay token file", MAX_TOKEN_FILE_BYTES);
  let text: string | undefined;
  let where = "";
  if (flags.relayToken !== undefined) {
    [text, where] = [flags.relayToken, "--relay-token"];
  } else if (flags.relayTokenFile !== undefined) {
    [text, where] = [
      await readTokenFile(flags.relayTokenFile),
      `relay token file '${flags.relayTokenFile}'`,
    ];
  } else if (env?.value !== undefined) {
    [text, where] = [env.value, env.name];
  } else if (file.relay_token !== undefined) {
    [text, where] = [file.relay_token, `'relay_token' of config '${configPath}'`];
  } else if (file.relay_token_file !== undefined) {
    [text, where] = [
      await readTokenFile(file.relay_token_file),
      `relay token file '${file.relay_token_file}'`,
    ];
  }
  if (text === undefined) return undefined;
  const token = text.trim();
  const problem = relayTokenFormatError(token);
  if (problem) throw new UsageError(`Invalid relay token in ${where}: ${problem}`);
  if (relayUrls.length === 0) {
    throw new UsageError(
      `A relay token (${where}) is sent only to relays named with --relay-url (or 'relay_urls'): ` +
        "name the relay that wants it",
    );
  }
  return new RelayToken(token, relayUrls);
}

/**
 * Why `token` cannot go in an `Authorization: Bearer` header, or undefined.
 * The message never quotes the token.
 */
export function relayTokenFormatError(token: string): string | undefined {
  if (token.length === 0) return "it is empty";
  if (token.length > MAX_RELAY_TOKEN_LENGTH) {
    return `it is longer than ${MAX_RELAY_TOKEN_LENGTH} characters`;
  }
  // One header value, one word: what the relay's `Bearer <token>` parsing takes whole.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    return "it may hold only printable ASCII characters, without spaces";
  }
  return undefined;
}

/**
 * The line a command ends (or warns) with when a relay refused it: which
 * relay, its reason, and which setting to look at. Never the token.
 */
export function relayRefusalMessage(error: RelayRefusedError): string {
  if (!error.access) return error.message;
  if (error.tokenPresented) {
    return `The relay ${error.url} refused the relay token: ${error.reason} ` +
      `(check ${TOKEN_FLAGS}, TUNNEL_RELAY_TOKEN or 'relay_token')`;
  }
  return `The relay ${error.url} refused this client: ${error.reason} ` +
    `(if it wants an access token, pass it with ${TOKEN_FLAGS})`;
}
