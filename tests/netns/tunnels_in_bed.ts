/**
 * Tunnel processes inside a test bed: `tunnel relay` on the public host, a TCP
 * echo service, an iroh-mode server, checksummed transfers, all spawned with
 * `ip netns exec` and the harness's permission sets.
 * @module
 */
import assert from "node:assert/strict";
import { ManagedProcess, PROJECT_CONFIG, runCommand, tunnelCommandArgs } from "../harness/mod.ts";
import type { Bed, BedHost } from "./bed.ts";

const HERE = new URL(".", import.meta.url).pathname;

/** Where the bed's relay listens: the public host's first address. */
export const BED_RELAY_ADDR = "198.51.100.1:3340";
/** The bed relay's URL. */
export const BED_RELAY_URL = `http://${BED_RELAY_ADDR}/`;
/** The bed relay's pkarr relay. */
export const BED_PKARR_URL = `${BED_RELAY_URL}pkarr`;

/** Arguments of `ip` that run `cmd` inside namespace `ns`. */
export function inNamespace(ns: string, cmd: string[]): string[] {
  return ["netns", "exec", ns, ...cmd];
}

/** Spawns `cmd` inside namespace `ns`, its output collected line by line. */
export function spawnIn(ns: string, cmd: string[]): ManagedProcess {
  return ManagedProcess.spawn("ip", { args: inNamespace(ns, cmd) });
}

/**
 * Starts `tunnel relay` on the public host at {@linkcode BED_RELAY_ADDR}; resolves once ready.
 * `options.mainModule` runs another CLI entry point (the bench's `--tunnel-main`).
 */
export async function startBedRelay(
  bed: Bed,
  extraArgs: string[],
  options: { mainModule?: string } = {},
): Promise<ManagedProcess> {
  const relay = spawnIn(bed.publicHost.ns, [
    Deno.execPath(),
    ...tunnelCommandArgs(["relay", "--bind", BED_RELAY_ADDR, ...extraArgs], options),
  ]);
  try {
    await relay.waitForLine("Relay ready", { timeoutMs: 20_000 });
  } catch (error) {
    await relay.stop();
    throw error;
  }
  return relay;
}

/**
 * A TCP echo service on `options.hostname` (default 127.0.0.1) of `host`'s namespace;
 * resolves with it and its port.
 */
export async function startBedEcho(
  host: { readonly ns: string },
  options: { hostname?: string } = {},
): Promise<{ proc: ManagedProcess; port: number }> {
  const hostname = options.hostname ?? "127.0.0.1";
  const proc = spawnIn(host.ns, [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--config",
    PROJECT_CONFIG,
    `--allow-net=${hostname}`,
    `${HERE}_tcp_echo.ts`,
    hostname,
  ]);
  const line = await proc.waitForLine(/^echo \d+$/, { timeoutMs: 20_000 });
  return { proc, port: Number(line.slice("echo ".length)) };
}

/**
 * An iroh-mode server on `host`, at the bed relay and publishing to its pkarr
 * relay, allowing 127.0.0.0/8; resolves with it and its EndpointId once ready.
 * `options.mainModule` runs another CLI entry point.
 */
export async function startBedServer(
  host: BedHost,
  token: string,
  extraArgs: string[] = [],
  options: { mainModule?: string } = {},
): Promise<{ proc: ManagedProcess; id: string }> {
  const proc = spawnIn(host.ns, [
    Deno.execPath(),
    ...tunnelCommandArgs([
      "server",
      "--bind",
      "0.0.0.0:0",
      "--allowed-tcp",
      "127.0.0.0/8",
      "--auth-tokens",
      token,
      "--relay-url",
      BED_RELAY_URL,
      "--dns-server",
      BED_PKARR_URL,
      ...extraArgs,
    ], options),
  ]);
  try {
    await proc.waitForLine("Waiting for clients to connect...", { timeoutMs: 30_000 });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  const id = proc.lines("stdout").find((l) => l.startsWith("EndpointId: "))!.slice(12);
  return { proc, id };
}

/** What {@linkcode startBedClient} starts. */
export interface BedClientOptions {
  /** The server's EndpointId. */
  serverId: string;
  token: string;
  /** What the client asks the server to reach, e.g. `tcp://127.0.0.1:22`. */
  source: string;
  /**
   * Look the server's record up at the bed's pkarr relay (and race its addresses against
   * the relay); false: `--no-dns`, the client knows only the relay, starts there, then punches.
   */
  lookup: boolean;
  /** More client flags (`--stun-server`, `--status`, `-v`...). */
  extraArgs?: string[];
  /** Another CLI entry point than cli/main.ts. */
  mainModule?: string;
}

/** A `tunnel client` in a bed, ready. */
export interface BedClient {
  proc: ManagedProcess;
  /** The tunnel's local port on 127.0.0.1 of the client's namespace. */
  localPort: number;
  /** `performance.now()` just before the client was spawned. */
  spawnedAt: number;
  /** Spawn to the `Tunnel ready` line, ms. */
  readyMs: number;
}

/**
 * `tunnel client ARGS -t 127.0.0.1:0` on `host`; resolves with it and its local
 * port once it prints `Tunnel ready` (within 30 s).
 *
 * @throws {Error} when it does not get ready; the process is stopped.
 */
export async function spawnBedClient(
  host: { readonly ns: string },
  args: string[],
  options: { mainModule?: string } = {},
): Promise<{ proc: ManagedProcess; localPort: number }> {
  const proc = spawnIn(host.ns, [
    Deno.execPath(),
    ...tunnelCommandArgs(["client", ...args, "--target", "127.0.0.1:0"], options),
  ]);
  try {
    const ready = await proc.waitForLine(/^Tunnel ready: 127\.0\.0\.1:\d+/, {
      stream: "stdout",
      timeoutMs: 30_000,
    });
    return { proc, localPort: Number(/:(\d+) ->/.exec(ready)![1]) };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/**
 * An iroh-mode `tunnel client` on `host` through the bed relay, its local end on
 * 127.0.0.1 (a free port); resolves once it prints `Tunnel ready` (within 30 s).
 *
 * @throws {Error} when it does not get ready; the process is stopped.
 */
export async function startBedClient(
  host: { readonly ns: string },
  o: BedClientOptions,
): Promise<BedClient> {
  const spawnedAt = performance.now();
  const { proc, localPort } = await spawnBedClient(host, [
    "--server-node-id",
    o.serverId,
    "--relay-url",
    BED_RELAY_URL,
    ...(o.lookup ? ["--dns-server", BED_PKARR_URL] : ["--no-dns"]),
    "--source",
    o.source,
    "--auth-token",
    o.token,
    ...(o.extraArgs ?? []),
  ], { mainModule: o.mainModule });
  return { proc, localPort, spawnedAt, readyMs: performance.now() - spawnedAt };
}

/**
 * Sends `size` checksummed bytes from `host`'s namespace to an echo service at
 * `options.hostname` (default 127.0.0.1: a tunnel's local port) `port`, and back;
 * asserts both digests match and returns the time it took.
 */
export async function transferInBed(
  host: { readonly ns: string },
  port: number,
  size: number,
  options: { hostname?: string } = {},
): Promise<number> {
  const hostname = options.hostname ?? "127.0.0.1";
  const result = await runCommand("ip", {
    args: inNamespace(host.ns, [
      Deno.execPath(),
      "run",
      "--no-prompt",
      "--config",
      PROJECT_CONFIG,
      `--allow-net=${hostname}`,
      `${HERE}_transfer.ts`,
      String(port),
      String(size),
      hostname,
    ]),
    timeoutMs: 90_000,
  });
  assert.equal(result.code, 0, result.stderr);
  const digests = JSON.parse(result.stdout);
  assert.equal(digests.bytes, size);
  assert.equal(digests.received, digests.sent);
  return digests.ms as number;
}
