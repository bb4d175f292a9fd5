/**
 * `tunnel server [iroh]`: accepts authenticated clients over key-pinned QUIC and
 * forwards each to the source it asks for, within the allowed networks.
 * @module
 */
import { Command, Option } from "commander";
import { parseTokensFile, TokenSet } from "../../core/auth/mod.ts";
import { readSecretKeyFile, SecretKey } from "../../core/identity/mod.ts";
import { listenQuic, type PeerListener } from "../../core/transport/mod.ts";
import {
  AllowList,
  ALPN,
  parseHostPort,
  serveConnection,
  SessionLimiter,
  systemResolver,
} from "../../core/tunnel/mod.ts";
import { type Config, loadConfig } from "../config.ts";
import { dialableAddresses } from "../listen_addresses.ts";
import { pick, positiveInteger, readUserFile, repeatable, shutdownSignal } from "../options.ts";
import { Output } from "../output.ts";
import { configOptions, resolveConfigPath } from "./config_options.ts";

/** Default `--max-sessions`. */
export const DEFAULT_MAX_SESSIONS = 100;

interface ServerIrohFlags {
  config?: string;
  defaultConfig?: boolean;
  allowedTcp?: string[];
  allowedUdp?: string[];
  authTokens?: string[];
  authTokensFile?: string;
  maxSessions?: number;
  secret?: string;
  secretFile?: string;
  bind?: string;
  verbose?: boolean;
}

/** Everything the server needs, checked. */
export interface ServerIrohSettings {
  secretKey: SecretKey;
  freshKey: boolean;
  tokens: TokenSet;
  allowedTcp: AllowList;
  allowedUdp: AllowList;
  maxSessions: number;
  bind: { host: string; port: number };
}

/** Defines the command. */
export function serverIrohCommand(): Command {
  return configOptions(new Command("iroh"))
    .description("accept clients by EndpointId and forward them to allowed sources (default mode)")
    .addOption(
      repeatable("--allowed-tcp <cidr>", "allowed TCP networks in CIDR notation (repeatable)"),
    )
    .addOption(
      repeatable("--allowed-udp <cidr>", "allowed UDP networks in CIDR notation (repeatable)"),
    )
    .addOption(repeatable("--auth-tokens <token>", "accepted authentication token (repeatable)"))
    .option("--auth-tokens-file <file>", "file of accepted tokens, one per line, # comments")
    .addOption(
      new Option(
        "--max-sessions <n>",
        `maximum concurrent sessions (default ${DEFAULT_MAX_SESSIONS})`,
      )
        .argParser(positiveInteger("--max-sessions")),
    )
    .option("--secret <base64>", "secret key for a persistent identity (base64)")
    .option("--secret-file <file>", "file holding the secret key (see generate-server-key)")
    .option("--bind <host:port>", "address to listen on (default all interfaces, random port)")
    .option("-v, --verbose", "show more detail")
    .action(async (flags: ServerIrohFlags) => {
      const path = resolveConfigPath(flags);
      const config = path ? await loadConfig(path, "server", "iroh") : undefined;
      await runServerIroh(
        await resolveServerIrohSettings(flags, config),
        new Output(flags.verbose),
      );
    });
}

/**
 * Merges CLI flags over config values and checks them.
 * @throws {Error} naming the first bad or missing setting.
 */
export async function resolveServerIrohSettings(
  flags: ServerIrohFlags,
  config?: Config,
): Promise<ServerIrohSettings> {
  const file = (config?.values ?? {}) as Record<string, any>;
  const sources = (file.allowed_sources ?? {}) as { tcp?: string[]; udp?: string[] };

  let secretKey: SecretKey | undefined;
  if (flags.secret !== undefined && flags.secretFile !== undefined) {
    throw new Error("Use either --secret or --secret-file, not both");
  }
  if (flags.secret !== undefined) secretKey = SecretKey.parse(flags.secret);
  else if (flags.secretFile !== undefined) secretKey = await readSecretKeyFile(flags.secretFile);
  else if (file.secret !== undefined) secretKey = SecretKey.parse(file.secret);
  else if (file.secret_file !== undefined) secretKey = await readSecretKeyFile(file.secret_file);

  // Tokens given on the command line replace the file's, like every other setting.
  const cliTokens = flags.authTokens !== undefined || flags.authTokensFile !== undefined;
  const tokenList = [...((cliTokens ? flags.authTokens : file.auth_tokens) ?? [])];
  const tokensFile = cliTokens ? flags.authTokensFile : file.auth_tokens_file;
  if (tokensFile !== undefined) {
    tokenList.push(...parseTokensFile(await readUserFile(tokensFile, "tokens file"), tokensFile));
  }
  if (tokenList.length === 0) {
    throw new Error(
      "No auth tokens configured: generate one with 'tunnel generate-token' and pass --auth-tokens TOKEN (or --auth-tokens-file FILE)",
    );
  }
  const allowedTcp = new AllowList(pick(flags.allowedTcp, sources.tcp) ?? []);
  const allowedUdp = new AllowList(pick(flags.allowedUdp, sources.udp) ?? []);
  if (allowedTcp.networks.length === 0 && allowedUdp.networks.length === 0) {
    throw new Error(
      "No allowed networks: pass --allowed-tcp and/or --allowed-udp (e.g. --allowed-tcp 127.0.0.0/8)",
    );
  }
  const maxSessions = pick<number>(flags.maxSessions, file.max_sessions) ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new Error(`Invalid max_sessions ${maxSessions}: must be a positive integer`);
  }
  const bindText = pick<string>(flags.bind, file.bind);
  return {
    secretKey: secretKey ?? SecretKey.generate(),
    freshKey: secretKey === undefined,
    tokens: new TokenSet(tokenList),
    allowedTcp,
    allowedUdp,
    maxSessions,
    bind: bindText === undefined
      ? { host: "::", port: 0 }
      : parseHostPort(bindText, "--bind address"),
  };
}

/** Runs the server until Ctrl-C. */
export async function runServerIroh(settings: ServerIrohSettings, out: Output): Promise<void> {
  let listener: PeerListener;
  try {
    listener = listenQuic({
      hostname: settings.bind.host,
      port: settings.bind.port,
      secretKey: settings.secretKey,
      alpn: ALPN,
    });
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : (error as Error).message;
    throw new Error(`Cannot listen on ${settings.bind.host}:${settings.bind.port}: ${why}`);
  }
  if (settings.freshKey) {
    out.warn("no --secret-file given: using a fresh identity; its EndpointId changes on restart");
  }
  out.info(`EndpointId: ${settings.secretKey.endpointId}`);
  for (const addr of dialableAddresses(listener.addr)) out.info(`Listening on ${addr}`);
  out.info(`Auth tokens: ${settings.tokens.size} token(s) configured`);
  out.debug(
    `allowed TCP: ${settings.allowedTcp.networks.map((n) => n.text).join(", ") || "none"}; ` +
      `allowed UDP: ${settings.allowedUdp.networks.map((n) => n.text).join(", ") || "none"}; ` +
      `max sessions: ${settings.maxSessions}`,
  );
  out.info("Waiting for clients to connect...");

  const sessions = new SessionLimiter(settings.maxSessions);
  const active = new Set<Promise<void>>();
  let counter = 0;
  const serving = (async () => {
    for (;;) {
      const conn = await listener.accept();
      if (!conn) return;
      const session = serveConnection(conn, {
        authenticate: (credential) => settings.tokens.has(credential),
        allowedTcp: settings.allowedTcp,
        allowedUdp: settings.allowedUdp,
        resolve: systemResolver,
        sessions,
        log: out,
        label: `session ${++counter}`,
      });
      active.add(session);
      session.finally(() => active.delete(session));
    }
  })();
  await shutdownSignal();
  out.info("Shutting down");
  listener.close();
  await serving;
}
