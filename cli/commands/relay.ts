/**
 * `tunnel relay`: a self-hosted relay (iroh's relay protocol on `/relay`), a
 * pkarr relay for discovery records (`/pkarr/<z32>`), a STUN responder, and
 * optionally the records' DNS face (`--dns-bind`), in one process.
 * @module
 */
import { Command, Option } from "commander";
import {
  createDohHandler,
  createPkarrStore,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_RECORDS,
  DhtMirror,
  type DnsServer,
  normalizeDnsOrigin,
  openPersistentPkarrStore,
  type PersistentPkarrStore,
  type PkarrStoreOptions,
  serveDns,
} from "../../core/discovery/mod.ts";
import { EndpointId } from "../../core/identity/mod.ts";
import {
  checkTlsPair,
  createRelayServer,
  DEFAULT_MAX_CLIENTS,
  type RelayListener,
  type RelayServer,
  servePlainHttp,
  serveRelay,
  type TlsPair,
} from "../../core/relay/mod.ts";
import { stunResponse } from "../../core/stun/mod.ts";
import { formatHostPort, parseHostPort } from "../../core/tunnel/mod.ts";
import { loadRelayConfig, type RelayConfig } from "../config.ts";
import { pick, positiveInteger, repeatable, shutdownSignal } from "../options.ts";
import { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { dhtOptions, type DhtSettings, resolveDht } from "../settings/dht_flags.ts";
import { openDhtNode } from "../run/dht_node.ts";
import { MAX_LIST_FILE_BYTES, readUserFile } from "../user_file.ts";

/** iroh's relay port in development (plain HTTP). */
export const DEFAULT_RELAY_BIND = "[::]:3340";
/** The STUN port (RFC 5389). */
export const DEFAULT_STUN_BIND = "[::]:3478";

/** The command line of `tunnel relay`, as commander parses it. */
export interface RelayFlags {
  config?: string;
  bind?: string;
  httpBind?: string;
  tlsCert?: string;
  tlsKey?: string;
  stunBind?: string;
  stun?: boolean;
  accessToken?: string[];
  accessTokensFile?: string;
  allowedEndpoint?: string[];
  maxClients?: number;
  rateLimit?: number;
  maxRecords?: number;
  recordsFile?: string;
  dnsBind?: string;
  dnsOrigin?: string;
  dht?: boolean;
  dhtBootstrap?: string[];
  verbose?: boolean;
}

/** Everything `tunnel relay` needs, checked. */
export interface RelaySettings {
  bind: { host: string; port: number };
  /** The plain HTTP listener beside HTTPS (captive-portal check), when asked for. */
  httpBind?: { host: string; port: number };
  tls?: { certFile: string; keyFile: string };
  stunBind?: { host: string; port: number };
  accessTokens: string[];
  allowedEndpoints?: EndpointId[];
  maxClients: number;
  rateLimitBytesPerSecond?: number;
  /** Discovery records held at most. */
  maxRecords: number;
  /**
   * Bytes the records may take (bodies plus overhead): the default for the
   * default count, and as much more per record as `maxRecords` asks for more.
   */
  maxRecordBytes: number;
  /** The SQLite file discovery records are kept in across restarts (none: memory only). */
  recordsFile?: string;
  /** The records' DNS face: where it listens (UDP and TCP) and the zone it serves. */
  dns?: { bind: { host: string; port: number }; origin: string };
  /** The Mainline DHT the records are mirrored into and looked up in, when asked for. */
  dht?: DhtSettings;
}

/** Defines the command. */
export function relayCommand(): Command {
  const command = new Command("relay")
    .description("run a relay for iroh mode: relay protocol, pkarr discovery records and STUN")
    .option("-c, --config <file>", "TOML file with a [relay] section (flags override its values)")
    .option("--bind <host:port>", `address of the HTTP(S) server (default ${DEFAULT_RELAY_BIND})`)
    .option(
      "--http-bind <host:port>",
      "with TLS, also serve plain HTTP here: iroh's captive-portal check (/generate_204; iroh probes port 80)",
    )
    .option(
      "--tls-cert <file>",
      "serve HTTPS with this certificate chain (PEM; reloaded on SIGHUP)",
    )
    .option("--tls-key <file>", "the private key of --tls-cert (PEM)")
    .option(
      "--stun-bind <host:port>",
      `UDP address of the STUN responder (default ${DEFAULT_STUN_BIND})`,
    )
    .option("--no-stun", "do not answer STUN")
    .addOption(
      repeatable("--access-token <token>", "admit only clients presenting this token (repeatable)"),
    )
    .option("--access-tokens-file <file>", "file of admitted tokens, one per line, # comments")
    .addOption(
      repeatable("--allowed-endpoint <id>", "admit only this EndpointId (repeatable)"),
    )
    .addOption(
      new Option(
        "--max-clients <n>",
        `authenticated clients at once (default ${DEFAULT_MAX_CLIENTS})`,
      )
        .argParser(positiveInteger("--max-clients")),
    )
    .addOption(
      new Option(
        "--rate-limit <bytes-per-second>",
        "per-client receive rate; beyond it datagrams are dropped",
      )
        .argParser(positiveInteger("--rate-limit")),
    )
    .addOption(
      new Option(
        "--max-records <n>",
        `discovery records held at /pkarr (default ${DEFAULT_MAX_RECORDS})`,
      )
        .argParser(positiveInteger("--max-records")),
    )
    .option(
      "--records-file <file>",
      "keep discovery records in this SQLite file across restarts (created mode 0600)",
    )
    .option(
      "--dns-bind <host:port>",
      "also answer DNS (UDP and TCP) for the records: _iroh.<z32>.<origin> TXT, as iroh-dns-server",
    )
    .option(
      "--dns-origin <name>",
      "the zone --dns-bind serves records under, e.g. dns.example.org",
    );
  return dhtOptions(command, "relay")
    .option("-v, --verbose", "a line per client connect and disconnect")
    .action(async (flags: RelayFlags) => {
      const config = flags.config === undefined ? {} : await loadRelayConfig(flags.config);
      await runRelay(await resolveRelaySettings(flags, config), new Output(flags.verbose));
    });
}

/**
 * Merges the flags over the config file's `[relay]` values and checks them.
 * @throws {UsageError} naming the first bad or contradictory setting.
 */
export async function resolveRelaySettings(
  flags: RelayFlags,
  config: RelayConfig = {},
): Promise<RelaySettings> {
  const tlsCert = pick(flags.tlsCert, config.tls_cert);
  const tlsKey = pick(flags.tlsKey, config.tls_key);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new UsageError("Use --tls-cert and --tls-key together (tls_cert and tls_key)");
  }
  const httpBind = pick(flags.httpBind, config.http_bind);
  if (httpBind !== undefined && tlsCert === undefined) {
    throw new UsageError(
      "--http-bind needs --tls-cert and --tls-key (without TLS, --bind serves plain HTTP)",
    );
  }
  const stunBind = pick(flags.stunBind, config.stun_bind);
  // commander sets `stun` to true unless --no-stun: only false is a choice made.
  const stun = flags.stun === false ? false : config.stun ?? true;
  if (!stun && stunBind !== undefined) {
    throw new UsageError("Use either --no-stun or --stun-bind, not both");
  }
  const accessTokens = [...(pick(flags.accessToken, config.access_tokens) ?? [])];
  const tokensFile = pick(flags.accessTokensFile, config.access_tokens_file);
  if (tokensFile !== undefined) {
    const text = await readUserFile(tokensFile, "access tokens file", MAX_LIST_FILE_BYTES);
    // Relay tokens are any text the operator chose (iroh's are), not tunnel tokens.
    accessTokens.push(
      ...text.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean),
    );
  }
  const maxClients = pick(flags.maxClients, config.max_clients) ?? DEFAULT_MAX_CLIENTS;
  const rateLimit = pick(flags.rateLimit, config.rate_limit);
  const maxRecords = pick(flags.maxRecords, config.max_records) ?? DEFAULT_MAX_RECORDS;
  for (
    const [name, value] of [
      ["max_clients", maxClients],
      ["rate_limit", rateLimit],
      ["max_records", maxRecords],
    ] as const
  ) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new UsageError(`Invalid ${name} ${value}: must be a positive integer`);
    }
  }
  const allowed = pick(flags.allowedEndpoint, config.allowed_endpoints);
  const dnsBind = pick(flags.dnsBind, config.dns_bind);
  const dnsOrigin = pick(flags.dnsOrigin, config.dns_origin);
  if ((dnsBind === undefined) !== (dnsOrigin === undefined)) {
    throw new UsageError("Use --dns-bind and --dns-origin together (dns_bind and dns_origin)");
  }
  const dht = resolveDht(flags, config, flags.config);
  return {
    bind: asUsageError(() =>
      parseHostPort(pick(flags.bind, config.bind) ?? DEFAULT_RELAY_BIND, "--bind address")
    ),
    httpBind: httpBind === undefined
      ? undefined
      : asUsageError(() => parseHostPort(httpBind, "--http-bind address")),
    tls: tlsCert && tlsKey ? { certFile: tlsCert, keyFile: tlsKey } : undefined,
    stunBind: stun
      ? asUsageError(() => parseHostPort(stunBind ?? DEFAULT_STUN_BIND, "--stun-bind address"))
      : undefined,
    accessTokens,
    allowedEndpoints: allowed?.map((id) => asUsageError(() => EndpointId.parse(id))),
    maxClients,
    rateLimitBytesPerSecond: rateLimit,
    maxRecords,
    maxRecordBytes: Math.max(
      DEFAULT_MAX_BYTES,
      Math.ceil(DEFAULT_MAX_BYTES / DEFAULT_MAX_RECORDS * maxRecords),
    ),
    recordsFile: pick(flags.recordsFile, config.records_file),
    dns: dnsBind !== undefined && dnsOrigin !== undefined
      ? {
        bind: asUsageError(() => parseHostPort(dnsBind, "--dns-bind address")),
        origin: asUsageError(() => normalizeDnsOrigin(dnsOrigin)),
      }
      : undefined,
    ...(dht ? { dht } : {}),
  };
}

/** Runs the relay until Ctrl-C. */
export async function runRelay(settings: RelaySettings, out: Output): Promise<void> {
  // The DHT: every record stored is put there, and a lookup the store cannot
  // answer is asked there (both bounded by the mirror).
  const dht = settings.dht && await openDhtNode(settings.dht, out, { readOnly: false });
  const mirror = dht && new DhtMirror({
    dht,
    current: (key) => records.lookup(key),
    maxKeys: settings.maxRecords,
    log: (line) => out.debug(line),
  });
  const pkarrOptions: PkarrStoreOptions = {
    // Writes need the same token as /relay; reads stay open (records are signed).
    accessTokens: settings.accessTokens,
    maxRecords: settings.maxRecords,
    maxBytes: settings.maxRecordBytes,
    // Asked only while serving requests, once `relay` exists: connected keys' records stay.
    isConnected: (endpointId) => relay.isConnected(endpointId.bytes),
    log: (line) => out.info(line),
    ...(mirror
      ? {
        onPut: (key, endpointId) => mirror.stored(key, endpointId),
        fetchMissing: (key, endpointId, address) => mirror.lookup(key, endpointId, address),
      }
      : {}),
  };
  // Opened before listening: a file that cannot be used ends the relay before it serves.
  let persistent: PersistentPkarrStore | undefined;
  try {
    persistent = settings.recordsFile === undefined
      ? undefined
      : openRecordsFile(settings.recordsFile, pkarrOptions, out);
  } catch (error) {
    mirror?.close();
    await dht?.close();
    throw error;
  }
  const records = persistent ?? createPkarrStore(pkarrOptions);
  const relay: RelayServer = createRelayServer({
    accessTokens: settings.accessTokens,
    allowedEndpoints: settings.allowedEndpoints,
    maxClients: settings.maxClients,
    rateLimitBytesPerSecond: settings.rateLimitBytesPerSecond,
    pkarr: records.handler,
    // The DNS face over HTTPS too, on the relay's own listener.
    dnsQuery: settings.dns
      ? createDohHandler({ origin: settings.dns.origin, lookup: records.lookup })
      : undefined,
    log: { info: (line) => out.info(line), debug: (line) => out.debug(line) },
  });
  try {
    await serveUntilShutdown(relay, settings, out, records.lookup);
  } finally {
    // The last batch of records reaches the file before the process ends.
    persistent?.close();
    mirror?.close();
    await dht?.close();
  }
}

function openRecordsFile(
  path: string,
  options: PkarrStoreOptions,
  out: Output,
): PersistentPkarrStore {
  // A RecordFileError is one line naming the file: the relay ends with it (exit 1).
  const store = openPersistentPkarrStore(path, options);
  out.info(`Records file ${path}: loading`);
  // Loaded while the relay serves: a full store's signatures take about a minute to check.
  store.loading.then(
    ({ loaded, dropped }) => {
      const why = dropped > 0 ? ` (${dropped} dropped: expired, failed a check, or no room)` : "";
      out.info(`Records file ${path}: ${loaded} record(s) loaded${why}`);
    },
    (error: Error) => out.info(`${error.message}; records are kept in memory only`),
  );
  return store;
}

async function serveUntilShutdown(
  relay: RelayServer,
  settings: RelaySettings,
  out: Output,
  lookup: (z32Key: string) => Uint8Array | undefined,
): Promise<void> {
  const tls = settings.tls ? await readTlsPair(settings.tls) : undefined;
  let server: RelayListener;
  try {
    server = await serveRelay(relay, {
      hostname: settings.bind.host,
      port: settings.bind.port,
      tls,
    });
  } catch (error) {
    throw new Error(
      `Cannot listen on ${formatHostPort(settings.bind.host, settings.bind.port)}: ${
        describeBindError(error)
      }`,
    );
  }
  let plainHttp: RelayListener | undefined;
  if (settings.httpBind) {
    const { host, port } = settings.httpBind;
    try {
      plainHttp = await servePlainHttp(relay, { hostname: host, port });
    } catch (error) {
      await server.shutdown();
      throw new Error(
        `Cannot listen for plain HTTP on ${formatHostPort(host, port)}: ${
          describeBindError(error)
        }`,
      );
    }
  }
  const scheme = tls ? "https" : "http";
  out.info(
    `Relay listening on ${scheme}://${formatHostPort(server.hostname, server.port)}/`,
  );
  if (plainHttp) {
    out.info(
      `Plain HTTP (captive-portal check) on http://${
        formatHostPort(plainHttp.hostname, plainHttp.port)
      }/generate_204`,
    );
  }
  if (settings.accessTokens.length > 0) {
    out.info(`Access: ${settings.accessTokens.length} token(s)`);
  }
  if (settings.allowedEndpoints) {
    out.info(`Access: ${settings.allowedEndpoints.length} endpoint(s)`);
  }

  let stun: Deno.DatagramConn | undefined;
  if (settings.stunBind) {
    try {
      stun = Deno.listenDatagram({
        transport: "udp",
        hostname: settings.stunBind.host,
        port: settings.stunBind.port,
      });
    } catch (error) {
      await server.shutdown();
      throw new Error(
        `Cannot listen for STUN on ${
          formatHostPort(settings.stunBind.host, settings.stunBind.port)
        }: ${describeBindError(error)} (or pass --no-stun)`,
      );
    }
    const addr = stun.addr as Deno.NetAddr;
    out.info(`STUN on udp ${formatHostPort(addr.hostname, addr.port)}`);
  }
  let dns: DnsServer | undefined;
  if (settings.dns) {
    const { bind, origin } = settings.dns;
    try {
      dns = serveDns({ hostname: bind.host, port: bind.port, origin, lookup });
    } catch (error) {
      stun?.close();
      await server.shutdown();
      throw new Error(
        `Cannot listen for DNS on ${formatHostPort(bind.host, bind.port)}: ${
          describeBindError(error)
        }`,
      );
    }
    out.info(
      `DNS on udp and tcp ${formatHostPort(dns.hostname, dns.port)} and ${scheme}://${
        formatHostPort(server.hostname, server.port)
      }/dns-query: _iroh.<z32>.${origin} TXT`,
    );
  }
  const answering = stun ? answerStun(stun) : Promise.resolve();
  const stopReloading = settings.tls
    ? reloadTlsOnHangup(settings.tls, server, out)
    : () => Promise.resolve();
  out.info("Relay ready");

  await shutdownSignal();
  out.info("Shutting down");
  await stopReloading();
  relay.close();
  stun?.close();
  await answering;
  await dns?.close();
  await Promise.all([server.shutdown(), plainHttp?.shutdown()]);
}

/** Reads and checks the certificate and key files. */
async function readTlsPair(files: { certFile: string; keyFile: string }): Promise<TlsPair> {
  const pair = {
    cert: await readUserFile(files.certFile, "TLS certificate", MAX_LIST_FILE_BYTES),
    key: await readUserFile(files.keyFile, "TLS key", MAX_LIST_FILE_BYTES),
  };
  try {
    return checkTlsPair(pair);
  } catch (error) {
    throw new UsageError(
      `Cannot use ${files.certFile} and ${files.keyFile}: ${(error as Error).message}`,
    );
  }
}

/**
 * On SIGHUP, reads the certificate and key files again and serves new
 * connections with them (a renewed certificate, without a restart); a file
 * that cannot be used leaves the old pair in use and logs one line.
 * @returns a function that stops listening and waits for a reload under way.
 */
function reloadTlsOnHangup(
  files: { certFile: string; keyFile: string },
  server: RelayListener,
  out: Output,
): () => Promise<void> {
  if (Deno.build.os === "windows") return () => Promise.resolve();
  // One reload at a time, in signal order: the last signal's files win.
  let reloading = Promise.resolve();
  const onHangup = () => {
    reloading = reloading.then(async () => {
      try {
        server.reloadTls(await readTlsPair(files));
        out.info(`TLS certificate reloaded from ${files.certFile}`);
      } catch (error) {
        out.warn(
          `TLS reload failed, still serving the previous certificate: ${(error as Error).message}`,
        );
      }
    });
  };
  Deno.addSignalListener("SIGHUP", onHangup);
  return () => {
    Deno.removeSignalListener("SIGHUP", onHangup);
    return reloading;
  };
}

async function answerStun(socket: Deno.DatagramConn): Promise<void> {
  const buffer = new Uint8Array(2_048);
  for (;;) {
    let datagram: Uint8Array, from: Deno.Addr;
    try {
      [datagram, from] = await socket.receive(buffer);
    } catch {
      return;
    }
    const answer = stunResponse(datagram, from as Deno.NetAddr);
    if (answer) await socket.send(answer, from).catch(() => {});
  }
}

function describeBindError(error: unknown): string {
  // node:net reports errno codes; Deno's own sockets (STUN) throw Deno.errors.
  return error instanceof Deno.errors.AddrInUse ||
      (error as { code?: unknown }).code === "EADDRINUSE"
    ? "address already in use"
    : (error as Error).message;
}
