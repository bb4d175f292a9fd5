/**
 * TOML config files: `role`, `mode`, and one section per mode, checked strictly
 * so a typo is an error naming the key rather than a silently ignored setting.
 * @module
 */
import { parse as parseToml } from "smol-toml";
import { configDir, expandHome } from "./env.ts";
import { UsageError } from "./usage_error.ts";
import { MAX_LIST_FILE_BYTES, readUserFile } from "./user_file.ts";

/** Which side a config file is for. */
export type Role = "server" | "client";
/** The modes this build can run. */
export const MODES = ["iroh", "manual", "nostr"] as const;
/** One of {@linkcode MODES}. */
export type Mode = typeof MODES[number];

/** How a key's value is checked: a scalar type, or a nested table's own schema. */
type FieldType = "string" | "string[]" | "integer" | "boolean" | "path" | Schema;
type Schema = { readonly [key: string]: FieldType };

// "path" values are resolved against the config file's folder, so a config and
// the key next to it work from any working directory.
const SCHEMAS = {
  "server.iroh": {
    relay_urls: "string[]",
    stun_servers: "string[]",
    dns_server: "string",
    no_dns: "boolean",
    dht: "boolean",
    dht_bootstrap: "string[]",
    socks5_proxy: "string",
    port_mapping: "boolean",
    secret: "string",
    secret_file: "path",
    bind: "string",
    max_sessions: "integer",
    auth_tokens: "string[]",
    auth_tokens_file: "path",
    authorized_keys: "path",
    relay_token: "string",
    relay_token_file: "path",
    allowed_sources: { tcp: "string[]", udp: "string[]" },
  },
  "client.iroh": {
    relay_urls: "string[]",
    stun_servers: "string[]",
    dns_server: "string",
    no_dns: "boolean",
    dht: "boolean",
    dht_bootstrap: "string[]",
    socks5_proxy: "string",
    port_mapping: "boolean",
    server_node_id: "string",
    server_addrs: "string[]",
    request_source: "string",
    target: "string",
    auth_token: "string",
    auth_token_file: "path",
    client_key: "path",
    relay_token: "string",
    relay_token_file: "path",
    reconnect: "boolean",
  },
  "server.manual": {
    stun_servers: "string[]",
    allowed_sources: { tcp: "string[]", udp: "string[]" },
  },
  "client.manual": {
    stun_servers: "string[]",
    request_source: "string",
    target: "string",
  },
  "server.nostr": {
    nsec: "string",
    nsec_file: "path",
    peer_npub: "string",
    relays: "string[]",
    stun_servers: "string[]",
    max_sessions: "integer",
    allowed_sources: { tcp: "string[]", udp: "string[]" },
  },
  "client.nostr": {
    nsec: "string",
    nsec_file: "path",
    peer_npub: "string",
    relays: "string[]",
    stun_servers: "string[]",
    request_source: "string",
    target: "string",
  },
} as const satisfies Record<`${Role}.${Mode}`, Schema>;

// `tunnel relay -c relay.toml`: one [relay] section, no role or mode.
const RELAY_SCHEMA = {
  bind: "string",
  http_bind: "string",
  tls_cert: "path",
  tls_key: "path",
  stun_bind: "string",
  stun: "boolean",
  access_tokens: "string[]",
  access_tokens_file: "path",
  allowed_endpoints: "string[]",
  max_clients: "integer",
  rate_limit: "integer",
  max_records: "integer",
  records_file: "path",
  dns_bind: "string",
  dns_origin: "string",
  dht: "boolean",
  dht_bootstrap: "string[]",
} as const satisfies Schema;

/** The TypeScript type of a value the schema type `T` accepts. */
type FieldValue<T> = T extends "string" | "path" ? string
  : T extends "string[]" ? string[]
  : T extends "integer" ? number
  : T extends "boolean" ? boolean
  : T extends Schema ? TableValues<T>
  : never;
/** A checked table: every key optional, since a file may leave any out. */
type TableValues<S extends Schema> = { -readonly [K in keyof S]?: FieldValue<S[K]> };

/**
 * The values of the `[mode]` section of a `role` config file, typed by its
 * schema, so a command reads `max_sessions` as a number and cannot read a key
 * its section does not have.
 *
 * @example
 * ```ts
 * const values: ModeConfig<"server", "iroh"> = { max_sessions: 7, allowed_sources: { tcp: [] } };
 * ```
 */
export type ModeConfig<R extends Role, M extends Mode> = TableValues<typeof SCHEMAS[`${R}.${M}`]>;

/**
 * A loaded, checked config file for `R` and `M`. With a union for either (no
 * mode asked for), a union of the possible files, told apart by `mode`.
 */
export type Config<R extends Role = Role, M extends Mode = Mode> = R extends Role
  ? M extends Mode ? {
      path: string;
      role: R;
      mode: M;
      /** The values of the mode's section, paths already resolved. */
      values: ModeConfig<R, M>;
    }
  : never
  : never;

/** A config file holds something wrong: the user's to fix, like a bad flag. */
export class ConfigError extends UsageError {
  override name = "ConfigError";
}

/** The default config path for a role. */
export function defaultConfigPath(role: Role): string {
  return `${configDir()}/${role}.toml`;
}

/**
 * Reads and checks a config file for `role` and, when the command names one,
 * `mode` (then a file for another mode is refused).
 * @throws {Error} naming the file when it cannot be read or is larger than 1 MiB.
 * @throws {ConfigError} naming the file and the offending key or value.
 */
export async function loadConfig<R extends Role, M extends Mode>(
  path: string,
  role: R,
  mode: M,
): Promise<Config<R, M>>;
/** Reads and checks a config file for `role`, whichever mode it names. */
export async function loadConfig<R extends Role>(path: string, role: R): Promise<Config<R>>;
export async function loadConfig(path: string, role: Role, mode?: Mode): Promise<Config> {
  const text = await readUserFile(path, "config", MAX_LIST_FILE_BYTES);
  return parseConfig(text, path, role, mode);
}

/**
 * Checks config text; see {@linkcode loadConfig}.
 * @throws {ConfigError}
 */
export function parseConfig<R extends Role, M extends Mode>(
  text: string,
  path: string,
  role: R,
  mode: M,
): Config<R, M>;
/** Checks config text for `role`, whichever mode it names. */
export function parseConfig<R extends Role>(text: string, path: string, role: R): Config<R>;
/** Checks config text; `mode` may be undefined. */
export function parseConfig(text: string, path: string, role: Role, mode?: Mode): Config;
export function parseConfig(text: string, path: string, role: Role, mode?: Mode): Config {
  const fail = (why: string) => new ConfigError(`Invalid config '${path}': ${why}`);
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const first = (error as Error).message.split("\n")[0];
    throw fail(`not valid TOML (${first})`);
  }
  if (doc.role === undefined) throw fail(`missing 'role' (add role = "${role}")`);
  if (doc.role !== role) {
    throw fail(`role is '${String(doc.role)}' but this is the '${role}' command`);
  }
  const fileMode = doc.mode ?? "iroh";
  if (typeof fileMode !== "string" || !(MODES as readonly string[]).includes(fileMode)) {
    throw fail(`unknown mode '${String(fileMode)}' (expected one of: ${MODES.join(", ")})`);
  }
  if (mode && fileMode !== mode) {
    throw fail(`mode is '${fileMode}' but the command asks for '${mode}'`);
  }
  for (const key of Object.keys(doc)) {
    if (key !== "role" && key !== "mode" && !(MODES as readonly string[]).includes(key)) {
      throw fail(`unknown key '${key}'`);
    }
  }
  for (const section of MODES) {
    if (doc[section] === undefined) continue;
    if (!isTable(doc[section])) throw fail(`'${section}' must be a table ([${section}])`);
    checkTable(
      doc[section] as Record<string, unknown>,
      SCHEMAS[`${role}.${section}`],
      section,
      fail,
    );
  }
  const base = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "./";
  const values = resolvePaths(
    (doc[fileMode] ?? {}) as Record<string, unknown>,
    SCHEMAS[`${role}.${fileMode as Mode}`],
    base,
  );
  // checkTable has just checked the section against SCHEMAS, which ModeConfig is built from.
  return { path, role, mode: fileMode, values } as Config;
}

/** The values of a relay config file's `[relay]` section, paths resolved. */
export type RelayConfig = TableValues<typeof RELAY_SCHEMA>;

/**
 * Reads and checks a `tunnel relay` config file.
 * @throws {Error} naming the file when it cannot be read or is larger than 1 MiB.
 * @throws {ConfigError} naming the file and the offending key or value.
 */
export async function loadRelayConfig(path: string): Promise<RelayConfig> {
  return parseRelayConfig(await readUserFile(path, "config", MAX_LIST_FILE_BYTES), path);
}

/**
 * Checks relay config text; see {@linkcode loadRelayConfig}.
 * @throws {ConfigError}
 */
export function parseRelayConfig(text: string, path: string): RelayConfig {
  const fail = (why: string) => new ConfigError(`Invalid config '${path}': ${why}`);
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw fail(`not valid TOML (${(error as Error).message.split("\n")[0]})`);
  }
  for (const key of Object.keys(doc)) {
    if (key !== "relay") {
      throw fail(`unknown key '${key}' (a relay config has one [relay] section)`);
    }
  }
  const section = doc.relay ?? {};
  if (!isTable(section)) throw fail(`'relay' must be a table ([relay])`);
  checkTable(section as Record<string, unknown>, RELAY_SCHEMA, "relay", fail);
  const base = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "./";
  return resolvePaths(section as Record<string, unknown>, RELAY_SCHEMA, base) as RelayConfig;
}

function isTable(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

function checkTable(
  table: Record<string, unknown>,
  schema: Schema,
  prefix: string,
  fail: (why: string) => ConfigError,
): void {
  for (const [key, value] of Object.entries(table)) {
    const name = `${prefix}.${key}`;
    const type = schema[key];
    if (type === undefined) throw fail(`unknown key '${name}'`);
    if (typeof type === "object") {
      if (!isTable(value)) throw fail(`'${name}' must be a table`);
      checkTable(value as Record<string, unknown>, type, name, fail);
    } else if (type === "string[]") {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
        throw fail(`'${name}' must be a list of strings`);
      }
    } else if (type === "integer") {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw fail(`'${name}' must be an integer`);
      }
    } else if (type === "boolean") {
      if (typeof value !== "boolean") throw fail(`'${name}' must be true or false`);
    } else if (typeof value !== "string") {
      throw fail(`'${name}' must be a string`);
    }
  }
}

function resolvePaths(
  table: Record<string, unknown>,
  schema: Schema,
  base: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) {
    if (schema[key] === "path") {
      const expanded = expandHome(value as string);
      out[key] = expanded.startsWith("/") ? expanded : base + expanded.replace(/^\.\//, "");
    } else {
      out[key] = value;
    }
  }
  return out;
}
