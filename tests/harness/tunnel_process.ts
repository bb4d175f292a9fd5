import { ENV_VARS } from "../../cli/env.ts";
import { EndpointId } from "../../core/identity/mod.ts";
import { dialViaRelay } from "../../core/relay/mod.ts";
import { dialQuic, type PeerConnection } from "../../core/transport/mod.ts";
import { ALPN } from "../../core/tunnel/mod.ts";
import { ManagedProcess } from "./managed_process.ts";
import { type CommandResult, runCommand } from "./run_command.ts";

const PROJECT_ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** Path of the tunnel CLI entry point, run from source. */
export const TUNNEL_MAIN: string = `${PROJECT_ROOT}cli/main.ts`;

/** Path of the project's deno.json (import map, lock file), passed with `--config`. */
export const PROJECT_CONFIG: string = `${PROJECT_ROOT}deno.json`;

/**
 * Deno permission flags of `tunnel relay`, less `--allow-read` (granted only for
 * the files named on its command line).
 */
export const RELAY_PERMISSION_FLAGS: readonly string[] = Object.freeze([
  "--unstable-net",
  "--allow-net",
  `--allow-env=${ENV_VARS.join(",")}`,
]);

/**
 * Deno permission flags of a forwarding tunnel process (server, client, any
 * mode), less `--allow-read`: the real set grants reads only for the files
 * named on the command line (secret file, token file, config), which
 * {@linkcode forwardingPermissionFlags} adds. ICE (manual mode, iroh mode's hole
 * punching) lists host addresses, and its library reads the environment when
 * it loads: `--ignore-env` hides all but the variables above.
 */
export const FORWARDING_PERMISSION_FLAGS: readonly string[] = Object.freeze([
  ...RELAY_PERMISSION_FLAGS,
  "--ignore-env",
  "--allow-sys=networkInterfaces",
]);

/**
 * The forwarding permission flags, plus `--allow-read=<paths>` when paths are given
 * (no read permission at all otherwise).
 *
 * @throws {TypeError} for a path containing a comma (Deno's list separator).
 * @example
 * ```ts
 * forwardingPermissionFlags(["/tmp/server.key"]);
 * // ["--unstable-net", "--allow-net", "--allow-env=...", ..., "--allow-read=/tmp/server.key"]
 * ```
 */
export function forwardingPermissionFlags(
  readPaths: readonly string[] = [],
  base: readonly string[] = FORWARDING_PERMISSION_FLAGS,
): string[] {
  for (const path of readPaths) {
    if (path.includes(",")) {
      throw new TypeError(`Cannot grant read access to "${path}": the path contains a comma`);
    }
  }
  const read = readPaths.length > 0 ? [`--allow-read=${[...new Set(readPaths)].join(",")}`] : [];
  return [...base, ...read];
}

/**
 * Deno permission flags of `tunnel vpn server|client` (its `cliArgs` from
 * `vpn` on), as docs/CLI.md's permission table gives them: port forwarding's,
 * plus FFI (the TUN device) and `ip`; with `--masquerade`, also `iptables`,
 * `sysctl` and reads of `/proc` (is a crashed run's process gone?); for a
 * client, its lock file.
 *
 * @example
 * ```ts
 * vpnPermissionFlags(["vpn", "server", "--masquerade"]);
 * // [...FORWARDING_PERMISSION_FLAGS, "--allow-read=/proc", "--allow-ffi", "--allow-run=ip,iptables,sysctl"]
 * ```
 */
export function vpnPermissionFlags(cliArgs: string[], readPaths: readonly string[] = []): string[] {
  if (cliArgs[1] === "client") {
    const lock = lockFileOf(cliArgs);
    return [
      ...forwardingPermissionFlags([lock, ...readPaths]),
      "--allow-ffi",
      "--allow-run=ip",
      `--allow-write=${lock}`,
    ];
  }
  const masquerade = cliArgs.includes("--masquerade");
  return [
    ...forwardingPermissionFlags(masquerade ? ["/proc", ...readPaths] : readPaths),
    "--allow-ffi",
    masquerade ? "--allow-run=ip,iptables,sysctl" : "--allow-run=ip",
  ];
}

/** Options shared by every way of running the CLI. */
export interface TunnelProcessOptions {
  /** Files the process may read, granted with `--allow-read=`. */
  readPaths?: string[];
  /** Extra environment variables (e.g. `TUNNEL_LOG`). */
  env?: Record<string, string>;
  /** Entry point to run instead of {@linkcode TUNNEL_MAIN} (a stand-in CLI in tests). */
  mainModule?: string;
  /** Extra `deno run` flags placed before the permission flags (e.g. `--v8-flags=...`). */
  denoFlags?: string[];
  /** Bound on reaching the ready line, or on a one-shot command. Default 20,000 ms. */
  timeoutMs?: number;
  /** Grace between SIGINT and SIGKILL in `stop()`. Default 3,000 ms. */
  stopGraceMs?: number;
}

/** The full `deno` argument list that runs the CLI with `cliArgs`. */
export function tunnelCommandArgs(cliArgs: string[], options: TunnelProcessOptions = {}): string[] {
  return [
    "run",
    "--no-prompt",
    "--config",
    PROJECT_CONFIG,
    ...(options.denoFlags ?? []),
    ...(cliArgs[0] === "vpn"
      ? vpnPermissionFlags(cliArgs, options.readPaths)
      : cliArgs[0] === "relay"
      ? relayPermissionFlags(cliArgs, options.readPaths)
      : forwardingPermissionFlags(options.readPaths, FORWARDING_PERMISSION_FLAGS)),
    options.mainModule ?? TUNNEL_MAIN,
    ...cliArgs,
  ];
}

/**
 * Deno permission flags of `tunnel relay` (its `cliArgs` from `relay` on), as
 * docs/CLI.md's permission table gives them: {@linkcode RELAY_PERMISSION_FLAGS},
 * reads of `readPaths`, and with `--records-file FILE` reads and writes of FILE.
 */
export function relayPermissionFlags(
  cliArgs: readonly string[],
  readPaths: readonly string[] = [],
): string[] {
  const at = cliArgs.indexOf("--records-file");
  if (at < 0) return forwardingPermissionFlags(readPaths, RELAY_PERMISSION_FLAGS);
  const file = cliArgs[at + 1];
  return [
    ...forwardingPermissionFlags([...readPaths, file], RELAY_PERMISSION_FLAGS),
    `--allow-write=${file}`,
  ];
}

// The client's --lock-file, or the default.
function lockFileOf(cliArgs: string[]): string {
  const at = cliArgs.indexOf("--lock-file");
  return at >= 0 ? cliArgs[at + 1] : "/run/tunnel-vpn-client.lock";
}

/** A tunnel process failed to reach its ready line; carries what it printed. */
export class TunnelStartError extends Error {
  /** Collected stderr. */
  readonly stderr: string;
  /** Collected stdout lines. */
  readonly stdout: string[];
  /** Exit code, or null when it was still running (timeout). */
  readonly code: number | null;

  /** Builds the error; `message` already includes stderr. */
  constructor(message: string, stderr: string, stdout: string[], code: number | null) {
    super(message);
    this.name = "TunnelStartError";
    this.stderr = stderr;
    this.stdout = stdout;
    this.code = code;
  }

  /** A one-line reason: the CLI's `Error: ` line, else the first stderr line. */
  get reason(): string {
    const lines = this.stderr.split("\n").map((line) => line.trim()).filter(Boolean);
    return lines.find((line) => /^error:/i.test(line)) ?? lines[0] ??
      this.message.split("\n")[0];
  }
}

/** Options for {@linkcode startServer}. */
export interface ServerOptions extends TunnelProcessOptions {
  /** One or more accepted tokens (`--auth-tokens`, repeated). */
  authTokens: string | string[];
  /** `--bind`. Default `127.0.0.1:0`; none with `--relay-only` in `extraArgs`. */
  bind?: string;
  /** `--allowed-tcp` networks. Default `["127.0.0.0/8"]`; `[]` omits the flag. */
  allowedTcp?: string[];
  /** `--allowed-udp` networks. Default `["127.0.0.0/8"]`; `[]` omits the flag. */
  allowedUdp?: string[];
  /** `--secret-file` (also granted for reading). */
  secretFile?: string;
  /** `--max-sessions`. */
  maxSessions?: number;
  /** More CLI arguments, appended last. */
  extraArgs?: string[];
}

/** A running tunnel server. */
export interface TunnelServer extends AsyncDisposable {
  /** The server's EndpointId (52 lowercase base32 characters). */
  readonly endpointId: string;
  /** Every `Listening on` address, as printed (`127.0.0.1:4433`). */
  readonly addrs: string[];
  /** The first IPv4 address of {@linkcode TunnelServer.addrs}, for `--server-addr`. */
  readonly addr: string;
  /** The relay it is reachable through when the harness started one (relay mode). */
  readonly relayUrl?: string;
  /**
   * Client flags that reach it on the test's path, public defaults off:
   * `--server-addr` directly, or `--relay-url … --relay-only` in relay mode.
   */
  readonly pathArgs: string[];
  /** Milliseconds from spawn to the ready line. */
  readonly readyMs: number;
  /** The child process. */
  readonly process: Deno.ChildProcess;
  /** Stdout lines so far. */
  lines(): string[];
  /** Stderr so far. */
  stderr(): string;
  /** SIGINT, then SIGKILL after the grace; awaits exit and output. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * The path the harness's servers and clients take: with `TUNNEL_TEST_PATH=relay`
 * each server gets its own `tunnel relay` on loopback and is reachable only
 * through it (`--relay-only`), and each client given `serverAddr` goes through
 * that relay instead. So the same end-to-end cases run over both paths.
 */
export function testPath(): "direct" | "relay" {
  const name = "TUNNEL_TEST_PATH";
  // Fixtures that import the harness may run without env access: they are direct.
  if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
    return "direct";
  }
  return Deno.env.get(name) === "relay" ? "relay" : "direct";
}

/** The relay each server started by the harness in relay mode is at, by EndpointId. */
const relayOfServer = new Map<string, string>();

/** Starts a `tunnel relay` on loopback; resolves with it and its URL once ready. */
export async function startLocalRelay(
  extraArgs: string[] = [],
): Promise<{ proc: ManagedProcess; url: string }> {
  const proc = ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs(["relay", "--bind", "127.0.0.1:0", "--no-stun", ...extraArgs]),
    cwd: PROJECT_ROOT,
  });
  try {
    const line = await proc.waitForLine(/^Relay listening on /, { timeoutMs: 20_000 });
    await proc.waitForLine("Relay ready", { timeoutMs: 20_000 });
    return { proc, url: line.replace("Relay listening on ", "") };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

const SERVER_READY = "Waiting for clients to connect...";
const ENDPOINT_ID = /^EndpointId: ([a-z2-7]{52})$/;
const LISTENING = /^Listening on (\S+)$/;

/**
 * Spawns `tunnel server` and waits for `Waiting for clients to connect...`.
 *
 * @throws {TunnelStartError} on early exit, timeout, or a missing EndpointId line; the
 * process is stopped first.
 * @example
 * ```ts
 * await using server = await startServer({ authTokens: token });
 * ```
 */
export async function startServer(options: ServerOptions): Promise<TunnelServer> {
  const tokens = typeof options.authTokens === "string" ? [options.authTokens] : options.authTokens;
  const extraArgs = [...(options.extraArgs ?? [])];
  const relay = testPath() === "relay" && !extraArgs.includes("--relay-url")
    ? await startLocalRelay()
    : undefined;
  if (relay) extraArgs.push("--relay-url", relay.url, "--relay-only");
  const relayOnly = extraArgs.includes("--relay-only");
  const args = ["server", ...(relayOnly ? [] : ["--bind", options.bind ?? "127.0.0.1:0"])];
  for (const net of options.allowedTcp ?? ["127.0.0.0/8"]) args.push("--allowed-tcp", net);
  for (const net of options.allowedUdp ?? ["127.0.0.0/8"]) args.push("--allowed-udp", net);
  for (const token of tokens) args.push("--auth-tokens", token);
  const readPaths = [...(options.readPaths ?? [])];
  if (options.secretFile !== undefined) {
    args.push("--secret-file", options.secretFile);
    readPaths.push(options.secretFile);
  }
  if (options.maxSessions !== undefined) args.push("--max-sessions", String(options.maxSessions));
  args.push(...extraArgs);
  args.push(...offlineDefaults(args));

  let started;
  try {
    started = await spawnUntilReady(
      "server",
      args,
      { ...options, readPaths },
      (line) => line === SERVER_READY,
    );
  } catch (error) {
    await relay?.proc.stop();
    throw error;
  }
  const { proc, readyMs } = started;
  const stdout = proc.lines("stdout");
  const endpointId = stdout.map((line) => ENDPOINT_ID.exec(line)?.[1]).find(Boolean);
  const addrs = stdout.map((line) => LISTENING.exec(line)?.[1]).filter((a): a is string => !!a);
  if (endpointId === undefined) {
    await proc.stop();
    await relay?.proc.stop();
    throw startError(proc, "tunnel server", "ready without an `EndpointId: ` line");
  }
  if (relay) relayOfServer.set(endpointId, relay.url);
  const addr = addrs.find((a) => !a.startsWith("[")) ?? addrs[0] ?? "";
  const stop = async () => {
    const status = await proc.stop();
    await relay?.proc.stop();
    relayOfServer.delete(endpointId);
    return status;
  };
  return {
    endpointId,
    addrs,
    addr,
    relayUrl: relay?.url,
    pathArgs: relay
      ? ["--no-dns", "--relay-url", relay.url, "--relay-only"]
      : ["--no-dns", "--no-relay", "--server-addr", addr],
    readyMs,
    process: proc.process,
    lines: () => proc.lines("stdout"),
    stderr: () => proc.stderrText(),
    stop,
    [Symbol.asyncDispose]: async () => void await stop(),
  };
}

/**
 * Dials a harness server's QUIC endpoint the way its clients do on the test's
 * path, for tests that play a hand-made (often hostile) client.
 */
export function dialServer(server: TunnelServer): Promise<PeerConnection> {
  const endpointId = EndpointId.parse(server.endpointId);
  if (server.relayUrl !== undefined) {
    return dialViaRelay({ relayUrl: server.relayUrl, serverId: endpointId, alpn: ALPN });
  }
  const i = server.addr.lastIndexOf(":");
  return dialQuic({
    addrs: [{ hostname: server.addr.slice(0, i), port: Number(server.addr.slice(i + 1)) }],
    endpointId,
    alpn: ALPN,
  });
}

/** Options for {@linkcode startClient}. */
export interface ClientOptions extends TunnelProcessOptions {
  /** `--server-node-id`: the server's EndpointId. */
  serverNodeId: string;
  /** `--server-addr` (direct address, skips discovery). */
  serverAddr?: string;
  /** `--source`, e.g. `tcp://127.0.0.1:22` or `udp://127.0.0.1:51820`. */
  source: string;
  /** `--target`. Default `127.0.0.1:0` (the ready line reports the bound port). */
  target?: string;
  /** `--auth-token`. */
  authToken?: string;
  /** `--auth-token-file` (also granted for reading). */
  authTokenFile?: string;
  /** More CLI arguments, appended last. */
  extraArgs?: string[];
}

/** A running tunnel client. */
export interface TunnelClient extends AsyncDisposable {
  /** The local port it listens on (the real one when `--target` had port 0). */
  readonly localPort: number;
  /** The local address as printed (`127.0.0.1:40000`). */
  readonly localAddr: string;
  /** The source as printed on the ready line. */
  readonly source: string;
  /** Milliseconds from spawn to the ready line. */
  readonly readyMs: number;
  /** The child process. */
  readonly process: Deno.ChildProcess;
  /** Stdout lines so far. */
  lines(): string[];
  /** Stderr so far. */
  stderr(): string;
  /** SIGINT, then SIGKILL after the grace; awaits exit and output. */
  stop(): Promise<Deno.CommandStatus>;
}

const CLIENT_READY = /^Tunnel ready: (\S+):(\d+) -> (\S+)$/;

/**
 * Spawns `tunnel client` and waits for `Tunnel ready: <addr> -> <source>`.
 *
 * @throws {TunnelStartError} on early exit (e.g. an `Error: ` line) or timeout; the
 * process is stopped first.
 * @example
 * ```ts
 * await using client = await startClient({
 *   serverNodeId: server.endpointId, serverAddr: server.addr,
 *   source: `tcp://127.0.0.1:${echo.port}`, authToken: token,
 * });
 * ```
 */
export async function startClient(options: ClientOptions): Promise<TunnelClient> {
  const args = ["client", "--server-node-id", options.serverNodeId];
  const relayUrl = relayOfServer.get(options.serverNodeId);
  if (relayUrl !== undefined && !options.extraArgs?.includes("--relay-url")) {
    args.push("--relay-url", relayUrl, "--relay-only");
  } else if (options.serverAddr !== undefined) {
    args.push("--server-addr", options.serverAddr);
  }
  args.push("--source", options.source, "--target", options.target ?? "127.0.0.1:0");
  if (options.authToken !== undefined) args.push("--auth-token", options.authToken);
  const readPaths = [...(options.readPaths ?? [])];
  if (options.authTokenFile !== undefined) {
    args.push("--auth-token-file", options.authTokenFile);
    readPaths.push(options.authTokenFile);
  }
  args.push(...(options.extraArgs ?? []));
  args.push(...offlineDefaults(args));

  const { proc, line, readyMs } = await spawnUntilReady(
    "client",
    args,
    { ...options, readPaths },
    (line) => CLIENT_READY.test(line),
  );
  const [, host, port, source] = CLIENT_READY.exec(line)!;
  const stop = () => proc.stop();
  return {
    localPort: Number(port),
    localAddr: `${host}:${port}`,
    source,
    readyMs,
    process: proc.process,
    lines: () => proc.lines("stdout"),
    stderr: () => proc.stderrText(),
    stop,
    [Symbol.asyncDispose]: async () => void await stop(),
  };
}

/**
 * The flags that keep an iroh-mode server or client off iroh's public relays
 * and pkarr relay when the test names none of its own, and from asking this
 * machine's router for port mappings: tests reach only servers they started.
 */
export function offlineDefaults(args: readonly string[]): string[] {
  const has = (...flags: string[]) => args.some((arg) => flags.includes(arg));
  const iroh = ["server", "client"].includes(args[0]) && !["manual", "nostr"].includes(args[1]) ||
    args[0] === "vpn";
  return [
    ...(has("--relay-url", "--no-relay", "--relay-only") ? [] : ["--no-relay"]),
    ...(has("--dns-server", "--no-dns") ? [] : ["--no-dns"]),
    ...(iroh && !has("--no-port-mapping") ? ["--no-port-mapping"] : []),
  ];
}

/** Options for {@linkcode runCli}. */
export interface RunCliOptions extends TunnelProcessOptions {
  /** Text written to the CLI's stdin, which is then closed. */
  stdin?: string;
}

/**
 * Runs a one-shot CLI command (e.g. `generate-token`) to completion.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runCli(["generate-token"]);
 * ```
 */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CommandResult> {
  return runCommand(Deno.execPath(), {
    args: tunnelCommandArgs(args, options),
    cwd: PROJECT_ROOT,
    env: options.env,
    stdin: options.stdin,
    timeoutMs: options.timeoutMs ?? 20_000,
  });
}

async function spawnUntilReady(
  role: "server" | "client",
  args: string[],
  options: TunnelProcessOptions,
  ready: (line: string) => boolean,
): Promise<{ proc: ManagedProcess; line: string; readyMs: number }> {
  const started = performance.now();
  const proc = ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs(args, options),
    cwd: PROJECT_ROOT,
    env: options.env,
    stopSignal: "SIGINT",
    graceMs: options.stopGraceMs ?? 3_000,
  });
  const timeoutMs = options.timeoutMs ?? 20_000;
  try {
    const line = await proc.waitForLine(ready, { stream: "stdout", timeoutMs });
    return { proc, line, readyMs: performance.now() - started };
  } catch {
    const early = proc.exitStatus;
    await proc.stop();
    const why = early !== undefined
      ? `exited with code ${early.code} before its ready line`
      : `no ready line within ${timeoutMs} ms`;
    throw startError(proc, `tunnel ${role}`, why);
  }
}

function startError(proc: ManagedProcess, what: string, why: string): TunnelStartError {
  const stderr = proc.stderrText();
  const stdout = proc.lines("stdout");
  return new TunnelStartError(
    `Cannot start ${what}: ${why}\n--- stderr ---\n${stderr.trim() || "(empty)"}\n` +
      `--- stdout ---\n${stdout.join("\n").trim() || "(empty)"}`,
    stderr,
    stdout,
    proc.exitStatus?.code ?? null,
  );
}
