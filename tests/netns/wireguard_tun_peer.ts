/**
 * Our WireGuard engine (core/vpn) as a complete VPN peer inside a network namespace: a
 * real TUN device, WireGuardPeer + WireGuardLink over a plain UDP socket, and IpRouter
 * between them, in a child process (`_wireguard_tun_peer.ts`) run with the permissions
 * VPN mode documents. The counterpart of {@link startWireGuardGo} for interop tests and
 * for benchmarking the engine without QUIC in the way.
 *
 * ```ts
 * const pair = await createVethPair();
 * try {
 *   const [ours, theirs] = [wireGuardKeyPair(), wireGuardKeyPair()];
 *   const wg = await startWireGuardGo(pair.right.ns, {
 *     privateKey: theirs.privateKey,
 *     listenPort: await pair.freeUdpPort(pair.right),
 *     address: "10.66.0.1/24",
 *     peer: { publicKey: ours.publicKey, allowedIps: ["10.66.0.2/32"] },
 *   });
 *   const peer = await startWireGuardTunPeer(pair.left.ns, {
 *     privateKey: ours.privateKey,
 *     listenPort: await pair.freeUdpPort(pair.left),
 *     address: "10.66.0.2/24",
 *     peer: { publicKey: wg.publicKey, endpoint: `${pair.right.ip}:${wg.listenPort}` },
 *   });
 *   await pair.exec(pair.left, ["ping", "-c", "1", wg.ip]);
 *   const { stats } = await peer.stop();
 * } finally {
 *   await pair.close();
 * }
 * ```
 * @module
 */
import type { RouterDrops } from "../../core/vpn/mod.ts";
import type { WireGuardPeerStats } from "../../core/vpn/wireguard/mod.ts";
import { ManagedProcess, PROJECT_CONFIG } from "../harness/mod.ts";
import { tool } from "./command.ts";
import { decodeWireGuardKey, wireGuardPublicKey } from "./wireguard_keys.ts";

/** Options of {@link startWireGuardTunPeer}. */
export interface WireGuardTunPeerOptions {
  /** Our private key (base64), e.g. from `wireGuardKeyPair()`. */
  privateKey: string;
  /** UDP port our engine binds, in the namespace. */
  listenPort: number;
  /** Address and prefix of our TUN device, e.g. `10.66.0.2/24`. */
  address: string;
  /** The one peer: its public key (base64) and `ip:port` (an IPv4 literal). */
  peer: { publicKey: string; endpoint: string };
  /** Device MTU. Default 1420: a 1500-byte link minus WireGuard's worst-case overhead. */
  mtu?: number;
}

/** What our peer reported when it stopped. */
export interface WireGuardTunPeerExit {
  /** The process's exit code: 0 after a clean SIGTERM. */
  code: number;
  /** The engine's counters, the router's drops and datagrams from strangers; absent if it never said. */
  stats?: WireGuardPeerStats & { routerDrops: RouterDrops; strangers: number };
}

/** A running peer of ours. `stop()` it; deleting its namespace also kills it. */
export interface WireGuardTunPeer extends AsyncDisposable {
  /** Namespace it runs in. */
  readonly ns: string;
  /** Its TUN device's name (`tun0`, ...). */
  readonly device: string;
  /** Device address without prefix, e.g. `10.66.0.2`. */
  readonly ip: string;
  /** UDP port it listens on. */
  readonly listenPort: number;
  /** Its public key (base64). */
  readonly publicKey: string;
  /** The process, with its log lines. */
  readonly process: ManagedProcess;
  /**
   * Sends SIGTERM (SIGKILL after 5 s); the peer closes its device and link, prints its
   * counters and exits. Idempotent.
   */
  stop(): Promise<WireGuardTunPeerExit>;
}

const SCRIPT = new URL("./_wireguard_tun_peer.ts", import.meta.url).pathname;
// Deno starts, loads libsodium's WebAssembly and creates the device in about a second.
const START_TIMEOUT_MS = 20_000;
// Closing the device and the socket takes milliseconds; past this the peer is stuck.
const STOP_GRACE_MS = 5_000;

/**
 * Starts our peer in namespace `ns` and resolves once its device is up and its socket
 * bound. The handshake happens on the first packet either side sends.
 *
 * @throws {TypeError} when a key is not base64 of 32 bytes.
 * @throws {Error} "Cannot start our WireGuard peer in <ns>: ..." (with its stderr) when it
 *   exits or hangs; the process is stopped then.
 */
export async function startWireGuardTunPeer(
  ns: string,
  options: WireGuardTunPeerOptions,
): Promise<WireGuardTunPeer> {
  decodeWireGuardKey(options.privateKey);
  decodeWireGuardKey(options.peer.publicKey);
  const [endpointIp] = options.peer.endpoint.split(":");
  const proc = ManagedProcess.spawn(tool("ip", "iproute2"), {
    args: [
      "netns",
      "exec",
      ns,
      Deno.execPath(),
      "run",
      "--no-prompt",
      "--config",
      PROJECT_CONFIG,
      "--unstable-net",
      `--allow-net=0.0.0.0:${options.listenPort},${endpointIp}`,
      // What VPN mode needs for its device: libc through FFI, and `ip`.
      "--allow-ffi",
      "--allow-run=ip",
      SCRIPT,
      options.privateKey,
      options.peer.publicKey,
      options.peer.endpoint,
      String(options.listenPort),
      options.address,
      String(options.mtu ?? 1420),
    ],
    // Plain text in the error messages that quote its stderr.
    env: { NO_COLOR: "1" },
    stopSignal: "SIGTERM",
    graceMs: STOP_GRACE_MS,
  });
  let ready: { device: string };
  try {
    ready = JSON.parse(
      await proc.waitForLine(/^\{"event":"ready"/, {
        stream: "stdout",
        timeoutMs: START_TIMEOUT_MS,
      }),
    );
  } catch (error) {
    await proc.stop();
    throw new Error(`Cannot start our WireGuard peer in ${ns}: ${(error as Error).message}`);
  }
  let stopping: Promise<WireGuardTunPeerExit> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      const status = await proc.stop();
      const exit = proc.lines("stdout").find((line) => line.startsWith('{"event":"exit"'));
      return { code: status.code, stats: exit ? JSON.parse(exit) : undefined };
    })();
  return {
    ns,
    device: ready.device,
    ip: options.address.split("/")[0],
    listenPort: options.listenPort,
    publicKey: wireGuardPublicKey(options.privateKey),
    process: proc,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
