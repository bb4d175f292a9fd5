import {
  type EchoServer,
  ManagedProcess,
  runCli,
  type Sshd,
  startClient,
  startServer,
  startSshd,
  startTcpEchoServer,
  TUNNEL_MAIN,
  tunnelCommandArgs,
  type TunnelServer,
  TunnelStartError,
} from "../tests/harness/mod.ts";
import { startBareQuicForward } from "./bare_quic_forward.ts";
import { startSocatForward, startSshForward } from "./port_forward.ts";

/** The ways traffic can reach a local service in the benchmark. */
export type PathKind =
  | "direct"
  | "socat"
  | "ssh -L"
  | "bare QUIC"
  | "tunnel"
  | "tunnel via relay"
  | "tunnel punched";

/** Every TCP path, in the order tables list them. */
export const TCP_PATHS: readonly PathKind[] = [
  "direct",
  "socat",
  "ssh -L",
  "bare QUIC",
  "tunnel",
  "tunnel via relay",
  "tunnel punched",
];

/**
 * ICE flags of the hole-punched path on loopback: 127.0.0.1 as the only host
 * candidate, no STUN (nothing leaves the machine).
 */
export const LOOPBACK_ICE: readonly string[] = ["--host-candidate", "127.0.0.1", "--no-stun"];
/** The line a client prints once new traffic takes a direct path. */
export const DIRECT_PATH_LINE = /^path: direct /;

/** A path could not be set up; the message is the one-line reason shown in the table. */
export class PathUnavailable extends Error {
  /** Builds the error from a one-line reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "PathUnavailable";
  }
}

/** The tunnel server every tunnel path shares, and the token clients present. */
export interface TunnelHandle {
  /** The running server. */
  server: TunnelServer;
  /** A token the server accepts. */
  token: string;
  /** The URL of the `tunnel relay` the server is also reachable through. */
  relayUrl: string;
}

/**
 * Shared, lazily started pieces of a benchmark run (sshd, echo server, tunnel server,
 * forwarders), each started once and reused by every suite, all stopped by `stop()`.
 * A path that fails to start is remembered, so a missing tunnel CLI costs one attempt.
 */
export class BenchEnvironment implements AsyncDisposable {
  /** Spawn-to-ready times of tunnel processes, for the start-up suite. */
  readonly tunnelTimings: { what: string; ms: number }[] = [];
  #cleanups: (() => Promise<unknown>)[] = [];
  #sshd?: Promise<Sshd>;
  #tunnel?: Promise<TunnelHandle>;
  #echo?: EchoServer;
  #forwards = new Map<string, Promise<number>>();
  #mainModule: string;

  /** `mainModule` runs another CLI entry point than `cli/main.ts` (e.g. another build). */
  constructor(options: { mainModule?: string } = {}) {
    this.#mainModule = options.mainModule ?? TUNNEL_MAIN;
  }

  /** Port of a TCP echo server in this process (started on first use). */
  echoPort(): number {
    if (!this.#echo) {
      const echo = startTcpEchoServer();
      this.#cleanups.push(() => echo.close());
      this.#echo = echo;
    }
    return this.#echo.port;
  }

  /** The throwaway sshd (started on first use). */
  sshd(): Promise<Sshd> {
    return this.#sshd ??= startSshd().then((sshd) => {
      this.#cleanups.push(() => sshd.stop());
      return sshd;
    }, (error) => {
      throw new PathUnavailable(`sshd: ${firstLine(error)}`);
    });
  }

  /** The CLI entry point tunnel processes run. */
  get mainModule(): string {
    return this.#mainModule;
  }

  /**
   * The shared tunnel server and token (started on first use).
   *
   * @throws {PathUnavailable} when the CLI is missing or does not start.
   */
  tunnel(): Promise<TunnelHandle> {
    return this.#tunnel ??= this.#startTunnel();
  }

  /**
   * Local port through which `path` reaches 127.0.0.1:`targetPort`. `localPort` asks
   * for a given local port (the tunnel's UDP test needs TCP and UDP on one number).
   *
   * @throws {PathUnavailable} when the path cannot be set up.
   */
  forward(
    path: PathKind,
    targetPort: number,
    options: { transport?: "tcp" | "udp"; localPort?: number } = {},
  ): Promise<number> {
    const transport = options.transport ?? "tcp";
    if (path === "direct") return Promise.resolve(targetPort);
    if (transport === "udp" && !path.startsWith("tunnel")) {
      return Promise.reject(new PathUnavailable(`${path} does not forward UDP here`));
    }
    const key = `${path} ${transport} ${targetPort} ${options.localPort ?? 0}`;
    let port = this.#forwards.get(key);
    if (!port) {
      port = this.#startForward(path, targetPort, transport, options.localPort);
      this.#forwards.set(key, port);
    }
    return port;
  }

  /**
   * Also runs `cleanup` when the environment stops (at the end, or on Ctrl-C), for what
   * a suite starts itself. The suite still stops it when done, so `cleanup` must be
   * harmless to run twice.
   */
  onStop(cleanup: () => Promise<unknown>): void {
    this.#cleanups.push(cleanup);
  }

  /** Stops everything, most recently started first. */
  async stop(): Promise<void> {
    const cleanups = this.#cleanups.splice(0).reverse();
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }

  /** Same as {@linkcode BenchEnvironment.prototype.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #startForward(
    path: Exclude<PathKind, "direct">,
    targetPort: number,
    transport: "tcp" | "udp",
    localPort: number | undefined,
  ): Promise<number> {
    if (path === "tunnel" || path === "tunnel via relay" || path === "tunnel punched") {
      const { server, token, relayUrl } = await this.tunnel();
      const via = path === "tunnel"
        ? { serverAddr: server.addr }
        : path === "tunnel via relay"
        ? { extraArgs: ["--relay-url", relayUrl, "--relay-only"] }
        : { extraArgs: ["--relay-url", relayUrl, ...LOOPBACK_ICE] };
      try {
        const client = await startClient({
          serverNodeId: server.endpointId,
          ...via,
          source: `${transport}://127.0.0.1:${targetPort}`,
          target: `127.0.0.1:${localPort ?? 0}`,
          authToken: token,
          mainModule: this.#mainModule,
        });
        this.#cleanups.push(() => client.stop());
        this.tunnelTimings.push({ what: `${path} client ${transport} ready`, ms: client.readyMs });
        if (path === "tunnel punched") await waitForDirect(client.lines);
        return client.localPort;
      } catch (error) {
        throw new PathUnavailable(firstLine(error));
      }
    }
    if (path === "bare QUIC") {
      try {
        const forward = await startBareQuicForward(targetPort);
        this.#cleanups.push(() => forward.stop());
        return forward.port;
      } catch (error) {
        throw new PathUnavailable(firstLine(error));
      }
    }
    const sshd = path === "ssh -L" ? await this.sshd() : undefined;
    try {
      const forward = sshd
        ? await startSshForward(sshd, targetPort)
        : await startSocatForward(targetPort);
      this.#cleanups.push(() => forward.process.stop());
      return forward.port;
    } catch (error) {
      throw new PathUnavailable(firstLine(error));
    }
  }

  async #startTunnel(): Promise<TunnelHandle> {
    try {
      await Deno.stat(this.#mainModule);
    } catch {
      throw new PathUnavailable(`${this.#mainModule} not found`);
    }
    const generated = await runCli(["generate-token"], { mainModule: this.#mainModule });
    const token = generated.stdout.trim();
    if (generated.code !== 0 || token === "") {
      const why = generated.stderr.trim().split("\n")[0] || `exit code ${generated.code}`;
      throw new PathUnavailable(`generate-token failed: ${why}`);
    }
    try {
      const relay = ManagedProcess.spawn(Deno.execPath(), {
        args: tunnelCommandArgs(["relay", "--bind", "127.0.0.1:0", "--no-stun"], {
          mainModule: this.#mainModule,
        }),
      });
      this.#cleanups.push(() => relay.stop());
      const listening = await relay.waitForLine(/^Relay listening on /, { timeoutMs: 20_000 });
      const relayUrl = listening.replace("Relay listening on ", "");
      const server = await startServer({
        authTokens: token,
        mainModule: this.#mainModule,
        extraArgs: ["--relay-url", relayUrl, ...LOOPBACK_ICE],
      });
      this.#cleanups.push(() => server.stop());
      this.tunnelTimings.push({ what: "server ready", ms: server.readyMs });
      return { server, token, relayUrl };
    } catch (error) {
      throw new PathUnavailable(firstLine(error));
    }
  }
}

/**
 * Waits for a punched client's `path: direct` line.
 * @throws {PathUnavailable} after 10 s without one.
 */
export async function waitForDirect(lines: () => string[]): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!lines().some((line) => DIRECT_PATH_LINE.test(line))) {
    if (performance.now() > deadline) throw new PathUnavailable("no direct path within 10 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function firstLine(error: unknown): string {
  if (error instanceof TunnelStartError) return error.reason;
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}
