/**
 * wireguard-go (the Go userspace WireGuard) inside a network namespace: the reference
 * peer the VPN is tested and benchmarked against.
 *
 * `wireguard-go -f <device>` creates the TUN device in the namespace it runs in and
 * listens for `wg` on `/var/run/wireguard/<device>.sock`. That directory is not per
 * namespace, so every device gets a random name (`wg` + 6 hex) unless one is given.
 *
 * ```ts
 * const pair = await createVethPair();
 * try {
 *   const tunnel = await startWireGuardGoPair(pair);
 *   await pair.exec(pair.left, ["ping", "-c", "1", tunnel.right.ip]);
 *   await tunnel.stop();
 * } finally {
 *   await pair.close();
 * }
 * ```
 * @module
 */
import { ManagedProcess } from "../harness/mod.ts";
import { mustRun, runInNamespace, tool } from "./command.ts";
import { ipBatch } from "./namespaces.ts";
import type { VethPair } from "./veth_pair.ts";
import { decodeWireGuardKey, wireGuardKeyPair, wireGuardPublicKey } from "./wireguard_keys.ts";

/** The one peer of a {@link startWireGuardGo} device. */
export interface WireGuardPeer {
  /** The peer's public key (base64). */
  publicKey: string;
  /** `ip:port` to send to; absent: learnt from the peer's first valid packet. */
  endpoint?: string;
  /** CIDRs routed to the peer and accepted from it, e.g. `["10.77.0.2/32"]`. */
  allowedIps: readonly string[];
  /** Keep-alive interval in seconds (`PersistentKeepalive`); absent: off. */
  persistentKeepalive?: number;
}

/** Options of {@link startWireGuardGo}. */
export interface WireGuardGoOptions {
  /** This device's private key (base64), e.g. from {@link wireGuardKeyPair}. */
  privateKey: string;
  /** UDP port wireguard-go listens on, in the namespace. */
  listenPort: number;
  /** Address and prefix of the device, e.g. `10.77.0.1/24`. */
  address: string;
  /** The one peer. */
  peer: WireGuardPeer;
  /** Device MTU. Default 1420: a 1500-byte link minus WireGuard's worst-case (IPv6) overhead. */
  mtu?: number;
  /** Device name (at most 15 characters). Default `wg` + 6 random hex digits. */
  device?: string;
  /** wireguard-go's `LOG_LEVEL`: `verbose` logs every handshake. Default `error`. */
  logLevel?: "verbose" | "error" | "silent";
}

/** Bytes a device has exchanged with its peer, as `wg show <device> transfer` reports. */
export interface WireGuardTransfer {
  /** Bytes received from the peer (WireGuard messages, headers included). */
  rxBytes: number;
  /** Bytes sent to the peer. */
  txBytes: number;
}

/** A running wireguard-go. `stop()` it; deleting its namespace also kills it. */
export interface WireGuardGo extends AsyncDisposable {
  /** Namespace it runs in. */
  readonly ns: string;
  /** Its TUN device's name. */
  readonly device: string;
  /** Device address without prefix, e.g. `10.77.0.1`. */
  readonly ip: string;
  /** UDP port it listens on. */
  readonly listenPort: number;
  /** Its public key (base64). */
  readonly publicKey: string;
  /** The process, with its log lines. */
  readonly process: ManagedProcess;
  /** Time of the latest completed handshake with the peer, or null if none yet. */
  latestHandshake(): Promise<Date | null>;
  /**
   * Polls {@link WireGuardGo.latestHandshake} until there is one.
   *
   * @throws {Error} "No WireGuard handshake on <device> within N ms" past `timeoutMs` (default 5 s).
   */
  waitForHandshake(options?: { timeoutMs?: number }): Promise<Date>;
  /** Bytes received from and sent to the peer so far. */
  transfer(): Promise<WireGuardTransfer>;
  /** Stops wireguard-go (SIGTERM, then SIGKILL after 2 s), which removes its device. Idempotent. */
  stop(): Promise<void>;
}

const UAPI_DIR = "/var/run/wireguard";
// wireguard-go creates its TUN device and socket within milliseconds; past this it is stuck.
const START_TIMEOUT_MS = 5_000;
const POLL_MS = 20;
// SIGTERM makes wireguard-go close its device and remove its socket: it takes well under this.
const STOP_GRACE_MS = 2_000;

/**
 * The `wg setconf` text for these options: interface key and port, one peer.
 *
 * @throws {TypeError} when a key is not base64 of 32 bytes or allowedIps is empty.
 */
export function wireGuardConfig(options: WireGuardGoOptions): string {
  decodeWireGuardKey(options.privateKey);
  decodeWireGuardKey(options.peer.publicKey);
  if (options.peer.allowedIps.length === 0) {
    throw new TypeError("Cannot configure WireGuard: the peer needs at least one allowed IP");
  }
  const { peer } = options;
  return [
    "[Interface]",
    `PrivateKey = ${options.privateKey}`,
    `ListenPort = ${options.listenPort}`,
    "",
    "[Peer]",
    `PublicKey = ${peer.publicKey}`,
    `AllowedIPs = ${peer.allowedIps.join(", ")}`,
    ...(peer.endpoint ? [`Endpoint = ${peer.endpoint}`] : []),
    ...(peer.persistentKeepalive ? [`PersistentKeepalive = ${peer.persistentKeepalive}`] : []),
    "",
  ].join("\n");
}

/**
 * Starts `wireguard-go -f` in namespace `ns`, configures it with `wg setconf`, gives the
 * device its address and MTU and brings it up. Resolves once the device is up; the
 * handshake happens on the first packet to the peer (or the peer's first).
 *
 * @throws {Error} "Cannot start wireguard-go: ..." (with its log) when it exits, hangs or
 *   `wg`/`ip` fail; the process is stopped then.
 * @example
 * ```ts
 * const keys = wireGuardKeyPair();
 * const wg = await startWireGuardGo(pair.right.ns, {
 *   privateKey: keys.privateKey,
 *   listenPort: await pair.freeUdpPort(pair.right),
 *   address: "10.77.0.2/24",
 *   peer: { publicKey: ourPublicKey, allowedIps: ["10.77.0.1/32"] },
 * });
 * ```
 */
export async function startWireGuardGo(
  ns: string,
  options: WireGuardGoOptions,
): Promise<WireGuardGo> {
  const config = wireGuardConfig(options);
  const device = options.device ?? `wg${randomHex(3)}`;
  const socket = `${UAPI_DIR}/${device}.sock`;
  const wg = tool("wg", "wireguard-tools");
  const proc = ManagedProcess.spawn(tool("ip", "iproute2"), {
    args: ["netns", "exec", ns, tool("wireguard-go", "wireguard-go"), "-f", device],
    env: { LOG_LEVEL: options.logLevel ?? "error" },
    stopSignal: "SIGTERM",
    graceMs: STOP_GRACE_MS,
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      await proc.stop();
      // After a SIGKILL the socket stays behind; a later wireguard-go would replace it.
      await Deno.remove(socket).catch(() => {});
    })();
  try {
    await waitForSocket(proc, socket);
    const configured = await runInNamespace(ns, [wg, "setconf", device, "/dev/stdin"], {
      stdin: config,
      timeoutMs: START_TIMEOUT_MS,
    });
    if (configured.code !== 0) throw new Error(`wg setconf: ${configured.stderr.trim()}`);
    await ipBatch(ns, [
      `addr add ${options.address} dev ${device}`,
      `link set ${device} mtu ${options.mtu ?? 1420} up`,
    ]);
  } catch (error) {
    await stop();
    // wireguard-go logs to stdout; its stderr would hold a Go panic.
    const log = [...new Set([...proc.lines("stdout"), ...proc.lines("stderr")])]
      .filter((line) => line.trim() !== "" && !/^[│┌└]/.test(line)).slice(-5).join("\n");
    throw new Error(
      `Cannot start wireguard-go in ${ns}: ${(error as Error).message}${log ? `\n${log}` : ""}`,
    );
  }
  const show = async (what: string) =>
    await mustRun([tool("ip", "iproute2"), "netns", "exec", ns, wg, "show", device, what]);
  const latestHandshake = async () => {
    const seconds = Number((await show("latest-handshakes")).trim().split("\t")[1] ?? 0);
    return seconds > 0 ? new Date(seconds * 1_000) : null;
  };
  return {
    ns,
    device,
    ip: options.address.split("/")[0],
    listenPort: options.listenPort,
    publicKey: wireGuardPublicKey(options.privateKey),
    process: proc,
    latestHandshake,
    async waitForHandshake(o = {}) {
      const timeoutMs = o.timeoutMs ?? START_TIMEOUT_MS;
      const deadline = performance.now() + timeoutMs;
      // Bounded by the deadline.
      while (true) {
        const at = await latestHandshake();
        if (at) return at;
        if (performance.now() > deadline) {
          throw new Error(`No WireGuard handshake on ${device} within ${timeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS * 5));
      }
    },
    async transfer() {
      const [, rx, tx] = (await show("transfer")).trim().split("\t");
      return { rxBytes: Number(rx ?? 0), txBytes: Number(tx ?? 0) };
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Options of {@link startWireGuardGoPair}. */
export interface WireGuardGoPairOptions {
  /** Left device's address. Default `10.77.0.1/24`. */
  leftAddress?: string;
  /** Right device's address. Default `10.77.0.2/24`. */
  rightAddress?: string;
  /** Device MTU on both ends. Default 1420. */
  mtu?: number;
}

/** wireguard-go on both ends of a {@link VethPair}, peered with each other. */
export interface WireGuardGoPair extends AsyncDisposable {
  /** wireguard-go in the pair's left namespace. */
  readonly left: WireGuardGo;
  /** wireguard-go in the pair's right namespace. */
  readonly right: WireGuardGo;
  /** Stops both. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts wireguard-go in both namespaces of `pair` with fresh keys, each the other's
 * peer at its veth address, so either side can start the handshake.
 *
 * @throws {Error} "Cannot start wireguard-go: ..." as {@link startWireGuardGo}; whatever
 *   had started is stopped then.
 */
export async function startWireGuardGoPair(
  pair: VethPair,
  options: WireGuardGoPairOptions = {},
): Promise<WireGuardGoPair> {
  const addresses = {
    left: options.leftAddress ?? "10.77.0.1/24",
    right: options.rightAddress ?? "10.77.0.2/24",
  };
  const keys = { left: wireGuardKeyPair(), right: wireGuardKeyPair() };
  const ports = {
    left: await pair.freeUdpPort(pair.left),
    right: await pair.freeUdpPort(pair.right),
  };
  const started: WireGuardGo[] = [];
  const stop = async () => {
    await Promise.all(started.map((wg) => wg.stop()));
  };
  try {
    for (const [side, other] of [["left", "right"], ["right", "left"]] as const) {
      started.push(
        await startWireGuardGo(pair[side].ns, {
          privateKey: keys[side].privateKey,
          listenPort: ports[side],
          address: addresses[side],
          mtu: options.mtu,
          peer: {
            publicKey: keys[other].publicKey,
            endpoint: `${pair[other].ip}:${ports[other]}`,
            allowedIps: [`${addresses[other].split("/")[0]}/32`],
          },
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { left: started[0], right: started[1], stop, [Symbol.asyncDispose]: stop };
}

async function waitForSocket(proc: ManagedProcess, socket: string): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  let exited = false;
  proc.status.then(() => exited = true);
  // Bounded by the deadline and by the process's exit.
  while (true) {
    try {
      if ((await Deno.stat(socket)).isSocket) return;
    } catch { /* not there yet */ }
    if (exited) throw new Error("wireguard-go exited before creating its device");
    if (performance.now() > deadline) {
      throw new Error(`no ${socket} within ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}
