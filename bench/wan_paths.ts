/**
 * The paths of the WAN table, set up across one WAN pair: servers in the right namespace
 * (the iperf3 server's side), forwarders and clients in the left one. Each forwarding
 * path ends in a local port on 127.0.0.1 of the left namespace that reaches the iperf3
 * server at `192.0.2.2:5201`.
 *
 * - `ssh -L`: the throwaway sshd in the right namespace (also listening on 192.0.2.2),
 *   `ssh -N -L` with OpenSSH's defaults in the left one.
 * - `bare QUIC`: `_bare_quic.ts` server in the right namespace, client in the left.
 * - `tunnel`: `tunnel server` (iroh mode, `--bind 192.0.2.2:4433`, no DNS, no STUN) and
 *   `tunnel relay` both in the right namespace; a client given `--server-addr`.
 * - `tunnel via relay`: a client with `--relay-url <that relay> --relay-only`. The relay
 *   sits beside the server, so relayed bytes cross the WAN once, as the direct ones do.
 *
 * For UDP (`startUdp()`), the tunnel paths are a TCP and a UDP client on one local port
 * (the server allows both to `192.0.2.2/32`).
 * @module
 */
import { generateToken } from "../core/auth/mod.ts";
import { ManagedProcess, type Sshd, startSshd, tunnelCommandArgs } from "../tests/harness/mod.ts";
import type { WanPair } from "../tests/netns/wan/wan_pair.ts";
import { startBareQuicForward } from "./bare_quic_forward.ts";
import { PathUnavailable } from "./bench_environment.ts";
import { reasonOf } from "./bench_suite.ts";
import { waitForListenerInNamespace } from "./namespace_listener.ts";

/** The rows of the WAN table, in order. */
export const WAN_PATHS = ["direct", "ssh -L", "bare QUIC", "tunnel", "tunnel via relay"] as const;
/** One row of the WAN table. */
export type WanPathKind = typeof WAN_PATHS[number];

/** The rows of the WAN UDP table, in order: the paths that forward UDP. */
export const WAN_UDP_PATHS = ["direct", "tunnel", "tunnel via relay"] as const;
/** One row of the WAN UDP table. */
export type WanUdpPathKind = typeof WAN_UDP_PATHS[number];

/** Port of the iperf3 server on the right host (namespaces of our own: nothing else binds). */
export const WAN_IPERF_PORT = 5201;
const SSH_LOCAL_PORT = 6001;
// Local ports of the UDP table's tunnel paths (TCP and UDP on each), in the left namespace.
const UDP_DIRECT_LOCAL_PORT = 6101;
const UDP_RELAY_LOCAL_PORT = 6102;
const TUNNEL_PORT = 4433;
const RELAY_PORT = 3340;
// Type-checking the CLI on a busy 2-core machine is the slow part of a start.
const START_TIMEOUT_MS = 60_000;
const CLIENT_READY = /^Tunnel ready: (\S+):(\d+) -> /;

/** Where the iperf3 client dials to take a path. */
export interface WanEndpoint {
  /** Address in the left namespace (the right host's for `direct`). */
  hostname: string;
  /** Port on it. */
  port: number;
}

interface TunnelSide {
  relayUrl: string;
  endpointId: string;
  token: string;
}

/** Spawns `cmd` in namespace `ns`; `ip netns exec` execs it, so stopping it stops `cmd`. */
function spawnIn(ns: string, cmd: string[], stopSignal: Deno.Signal = "SIGINT"): ManagedProcess {
  return ManagedProcess.spawn("ip", { args: ["netns", "exec", ns, ...cmd], stopSignal });
}

/** A start failure, with the process's own `Error:` line (or first stderr line) as reason. */
function failure(what: string, proc: ManagedProcess, error: unknown): PathUnavailable {
  const lines = proc.stderrText().split("\n").map((line) => line.trim()).filter(Boolean);
  const said = lines.find((line) => /^error:/i.test(line)) ?? lines[0];
  return new PathUnavailable(`${what}: ${said ?? reasonOf(error)}`);
}

/**
 * The servers and forwarders of every path on one WAN pair, each started on first use and
 * all stopped by `stop()`. A path that failed to start is not retried.
 */
export class WanPaths {
  readonly #wan: WanPair;
  readonly #mainModule: string;
  #stops: (() => Promise<unknown>)[] = [];
  #sshd?: Promise<Sshd>;
  #tunnel?: Promise<TunnelSide>;

  /** Paths across `wan`; the tunnel rows run `mainModule` (the CLI entry point). */
  constructor(wan: WanPair, mainModule: string) {
    this.#wan = wan;
    this.#mainModule = mainModule;
  }

  /** The iperf3 server's address on the right host. */
  get target(): WanEndpoint {
    return { hostname: this.#wan.right.ip, port: WAN_IPERF_PORT };
  }

  /**
   * Sets `path` up and says where the iperf3 client dials to take it.
   *
   * @throws {PathUnavailable} with a one-line reason when it cannot be set up.
   */
  async start(path: WanPathKind): Promise<WanEndpoint> {
    if (path === "direct") return this.target;
    if (path === "ssh -L") return await this.#sshForward();
    if (path === "bare QUIC") return await this.#bareQuic();
    return await this.#tunnelClient(path === "tunnel via relay");
  }

  /**
   * Sets up a path for an iperf3 UDP test: iperf3 keeps its control connection on TCP and
   * sends its datagrams on UDP to the same port, so a tunnel path is two clients, one per
   * transport, on one local port. Each call starts new clients.
   *
   * @throws {PathUnavailable} with a one-line reason when it cannot be set up.
   */
  async startUdp(path: WanUdpPathKind): Promise<WanEndpoint> {
    if (path === "direct") return this.target;
    const viaRelay = path === "tunnel via relay";
    const port = viaRelay ? UDP_RELAY_LOCAL_PORT : UDP_DIRECT_LOCAL_PORT;
    await this.#tunnelClient(viaRelay, "tcp", port);
    return await this.#tunnelClient(viaRelay, "udp", port);
  }

  /** Stops everything started, most recent first. Harmless to call twice. */
  async stop(): Promise<void> {
    for (const stop of this.#stops.splice(0).reverse()) await stop().catch(() => {});
  }

  #sshd_(): Promise<Sshd> {
    return this.#sshd ??= startSshd({
      wrap: ["ip", "netns", "exec", this.#wan.right.ns],
      extraConfig: [`ListenAddress ${this.#wan.right.ip}`],
    }).then((sshd) => {
      this.#stops.push(() => sshd.stop());
      return sshd;
    }, (error) => {
      throw new PathUnavailable(`sshd: ${reasonOf(error)}`);
    });
  }

  async #sshForward(): Promise<WanEndpoint> {
    const sshd = await this.#sshd_();
    const { right, left } = this.#wan;
    const proc = spawnIn(left.ns, [
      "ssh",
      "-N",
      "-o",
      "ExitOnForwardFailure=yes",
      // sshArgs() names root@127.0.0.1; the sshd is across the WAN.
      "-o",
      `HostName=${right.ip}`,
      "-L",
      `127.0.0.1:${SSH_LOCAL_PORT}:${right.ip}:${WAN_IPERF_PORT}`,
      ...sshd.sshArgs(),
    ], "SIGTERM");
    this.#stops.push(() => proc.stop());
    await this.#listening(proc, "ssh -L", left.ns, SSH_LOCAL_PORT);
    return { hostname: "127.0.0.1", port: SSH_LOCAL_PORT };
  }

  async #bareQuic(): Promise<WanEndpoint> {
    const { right, left } = this.#wan;
    try {
      const forward = await startBareQuicForward(WAN_IPERF_PORT, {
        host: right.ip,
        namespaces: { server: right.ns, client: left.ns },
      });
      this.#stops.push(() => forward.stop());
      return { hostname: "127.0.0.1", port: forward.port };
    } catch (error) {
      throw new PathUnavailable(reasonOf(error));
    }
  }

  /** Waits for `proc`'s listener in `ns`, giving up early if it exits. */
  async #listening(proc: ManagedProcess, what: string, ns: string, port: number) {
    const exited = new AbortController();
    proc.status.then(() => exited.abort(new Error(`${what} exited`)));
    try {
      await waitForListenerInNamespace(ns, port, { timeoutMs: 20_000, signal: exited.signal });
    } catch (error) {
      await proc.stop();
      throw failure(what, proc, error);
    }
  }

  #tunnelArgs(cliArgs: string[]): string[] {
    return [Deno.execPath(), ...tunnelCommandArgs(cliArgs, { mainModule: this.#mainModule })];
  }

  #tunnelServer(): Promise<TunnelSide> {
    return this.#tunnel ??= this.#startTunnelServer();
  }

  async #startTunnelServer(): Promise<TunnelSide> {
    try {
      await Deno.stat(this.#mainModule);
    } catch {
      throw new PathUnavailable(`${this.#mainModule} not found`);
    }
    const right = this.#wan.right;
    const relay = spawnIn(
      right.ns,
      this.#tunnelArgs([
        "relay",
        "--bind",
        `${right.ip}:${RELAY_PORT}`,
        "--no-stun",
      ]),
    );
    this.#stops.push(() => relay.stop());
    let relayUrl: string;
    try {
      const line = await relay.waitForLine(/^Relay listening on /, { timeoutMs: START_TIMEOUT_MS });
      await relay.waitForLine("Relay ready", { timeoutMs: START_TIMEOUT_MS });
      relayUrl = line.replace("Relay listening on ", "").trim();
    } catch (error) {
      throw failure("tunnel relay", relay, error);
    }
    const token = generateToken();
    const server = spawnIn(
      right.ns,
      this.#tunnelArgs([
        "server",
        "--no-port-mapping",
        "--bind",
        `${right.ip}:${TUNNEL_PORT}`,
        "--allowed-tcp",
        `${right.ip}/32`,
        "--allowed-udp",
        `${right.ip}/32`,
        "--auth-tokens",
        token,
        "--relay-url",
        relayUrl,
        "--no-dns",
        "--no-stun",
        "--host-candidate",
        right.ip,
      ]),
    );
    this.#stops.push(() => server.stop());
    try {
      await server.waitForLine("Waiting for clients to connect...", {
        stream: "stdout",
        timeoutMs: START_TIMEOUT_MS,
      });
    } catch (error) {
      throw failure("tunnel server", server, error);
    }
    const idLine = server.lines("stdout").find((line) => line.startsWith("EndpointId: "));
    if (idLine === undefined) throw new PathUnavailable("tunnel server: no EndpointId line");
    return { relayUrl, endpointId: idLine.slice("EndpointId: ".length).trim(), token };
  }

  async #tunnelClient(
    viaRelay: boolean,
    transport: "tcp" | "udp" = "tcp",
    localPort = 0,
  ): Promise<WanEndpoint> {
    const { relayUrl, endpointId, token } = await this.#tunnelServer();
    const { right, left } = this.#wan;
    const via = viaRelay
      ? ["--relay-url", relayUrl, "--relay-only"]
      : ["--server-addr", `${right.ip}:${TUNNEL_PORT}`, "--no-relay"];
    const client = spawnIn(
      left.ns,
      this.#tunnelArgs([
        "client",
        "--server-node-id",
        endpointId,
        ...via,
        "--no-dns",
        "--no-port-mapping",
        "--source",
        `${transport}://${right.ip}:${WAN_IPERF_PORT}`,
        "--target",
        `127.0.0.1:${localPort}`,
        "--auth-token",
        token,
      ]),
    );
    this.#stops.push(() => client.stop());
    try {
      const line = await client.waitForLine(CLIENT_READY, {
        stream: "stdout",
        timeoutMs: START_TIMEOUT_MS,
      });
      const [, hostname, port] = CLIENT_READY.exec(line)!;
      return { hostname, port: Number(port) };
    } catch (error) {
      const what = `tunnel client${viaRelay ? " (relay)" : ""}${transport === "udp" ? " UDP" : ""}`;
      throw failure(what, client, error);
    }
  }
}
