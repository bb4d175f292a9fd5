/**
 * `tunnel client [iroh]`: connects to a server known by its EndpointId, asks for
 * a source, and serves it on a local address.
 * @module
 */
import { Command } from "commander";
import { parseToken } from "../../core/auth/mod.ts";
import { EndpointId } from "../../core/identity/mod.ts";
import { dialQuic } from "../../core/transport/mod.ts";
import {
  ALPN,
  type ClientSession,
  formatHostPort,
  formatSource,
  openClientSession,
  parseHostPort,
  parseSource,
  type Source,
} from "../../core/tunnel/mod.ts";
import { type Config, loadConfig } from "../config.ts";
import { pick, readUserFile, repeatable } from "../options.ts";
import { Output } from "../output.ts";
import { configOptions, resolveConfigPath } from "./config_options.ts";
import { bindTarget, forwardUntilDone, type LocalTarget } from "./local_target.ts";

interface ClientIrohFlags {
  config?: string;
  defaultConfig?: boolean;
  serverNodeId?: string;
  serverAddr?: string[];
  source?: string;
  target?: string;
  authToken?: string;
  authTokenFile?: string;
  verbose?: boolean;
}

/** Everything the client needs, checked. */
export interface ClientIrohSettings {
  serverId: EndpointId;
  serverAddrs: { hostname: string; port: number }[];
  source: Source;
  target: { host: string; port: number };
  token: string;
}

/** Defines the command. */
export function clientIrohCommand(): Command {
  return configOptions(new Command("iroh"))
    .description("connect to a server by EndpointId and forward a source locally (default mode)")
    .option("-n, --server-node-id <id>", "EndpointId of the server")
    .addOption(
      repeatable("--server-addr <host:port>", "address the server listens on (repeatable)"),
    )
    .option("-s, --source <url>", "source to request: tcp://host:port or udp://host:port")
    .option("-t, --target <host:port>", "local address to listen on")
    .option("--auth-token <token>", "authentication token")
    .option("--auth-token-file <file>", "file holding the authentication token")
    .option("-v, --verbose", "show more detail")
    .action(async (flags: ClientIrohFlags) => {
      const path = resolveConfigPath(flags, "client");
      const config = path ? await loadConfig(path, "client", "iroh") : undefined;
      await runClientIroh(
        await resolveClientIrohSettings(flags, config),
        new Output(flags.verbose),
      );
    });
}

/**
 * Merges CLI flags over config values and checks them.
 * @throws {Error} naming the first bad or missing setting.
 */
export async function resolveClientIrohSettings(
  flags: ClientIrohFlags,
  config?: Config,
): Promise<ClientIrohSettings> {
  const file = (config?.values ?? {}) as Record<string, any>;
  const required = <T>(value: T | undefined, flag: string, key: string): T => {
    if (value === undefined) throw new Error(`Missing ${flag} (or '${key}' in the config file)`);
    return value;
  };
  const serverId = EndpointId.parse(
    required(
      pick<string>(flags.serverNodeId, file.server_node_id),
      "--server-node-id",
      "server_node_id",
    ),
  );
  const addrs = pick<string[]>(flags.serverAddr, file.server_addrs) ?? [];
  if (addrs.length === 0) {
    throw new Error(
      "No way to reach the server: pass --server-addr HOST:PORT (one of the addresses the server prints)",
    );
  }
  const source = parseSource(
    required(pick<string>(flags.source, file.request_source), "--source", "request_source"),
  );
  const target = parseHostPort(
    required(pick<string>(flags.target, file.target), "--target", "target"),
    "--target address",
  );
  let tokenText: string | undefined;
  if (flags.authToken !== undefined && flags.authTokenFile !== undefined) {
    throw new Error("Use either --auth-token or --auth-token-file, not both");
  }
  if (flags.authToken !== undefined) tokenText = flags.authToken;
  else if (flags.authTokenFile !== undefined) {
    tokenText = await readUserFile(flags.authTokenFile, "token file");
  } else if (file.auth_token !== undefined) tokenText = file.auth_token;
  else if (file.auth_token_file !== undefined) {
    tokenText = await readUserFile(file.auth_token_file, "token file");
  }
  if (tokenText === undefined) {
    throw new Error("Missing --auth-token (ask the server's admin for one)");
  }
  return {
    serverId,
    serverAddrs: addrs.map((a) => {
      const { host, port } = parseHostPort(a, "--server-addr");
      return { hostname: host, port };
    }),
    source,
    target,
    token: parseToken(tokenText),
  };
}

/** Runs the client until Ctrl-C or until the server goes away. */
export async function runClientIroh(settings: ClientIrohSettings, out: Output): Promise<void> {
  // Bind first: a port in use is the user's to fix before anyone is dialed.
  const local: LocalTarget = bindTarget(settings.source.protocol, settings.target);
  let session: ClientSession;
  try {
    const conn = await dialQuic({
      addrs: settings.serverAddrs,
      endpointId: settings.serverId,
      alpn: ALPN,
    });
    out.info(
      `Connected to server ${settings.serverId} at ${
        formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port)
      }`,
    );
    session = await openClientSession(
      conn,
      new TextEncoder().encode(settings.token),
      settings.source,
    );
  } catch (error) {
    local.close();
    throw error;
  }
  out.info(`Tunnel ready: ${local.address} -> ${formatSource(settings.source)}`);
  await forwardUntilDone(session, local, out);
}
