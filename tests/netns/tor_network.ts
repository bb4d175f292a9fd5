/**
 * A private Tor network for tests, built from Debian's `tor`: three directory authorities
 * (keys from `tor-gencert`), five relays, onion services in front of loopback ports the
 * caller names, and clients whose SOCKS ports the caller reaches on loopback.
 *
 * Every tor runs inside one network namespace that has only its own loopback (IPv6 off, no
 * other link, no route): a tor there cannot send a packet to any other host, so the public
 * Tor network is out of reach by construction, not by configuration alone. The caller's
 * side is joined through Unix sockets, which belong to the file system rather than to a
 * namespace: each client's `SocksPort` is a Unix socket bridged to a TCP port on the
 * caller's 127.0.0.1, and each onion service's `HiddenServicePort` points at a Unix socket
 * bridged to the caller's 127.0.0.1:port. Ports inside the namespace are fixed (nothing
 * else lives there), so two networks never collide.
 *
 * ```ts
 * const net = await startTorNetwork({ hiddenServices: [{ port: 8080 }], clients: 1 });
 * try {
 *   // curl --socks5-hostname 127.0.0.1:<port> http://<onion>:8080/
 *   const { hostname, port } = net.socks(0);
 *   console.log(net.onion(0), hostname, port);
 * } finally {
 *   await net.stop();
 * }
 * ```
 * Needs root (namespaces), iproute2, procps and tor (`tor`, `tor-gencert`).
 * @module
 */
import { findTool } from "./command.ts";
import {
  addNamespace,
  IPV6_OFF,
  makeBedDir,
  newBedPrefix,
  removeNamespaces,
  sysctlIn,
} from "./namespaces.ts";
import { acceptAndClose, bridge, type StreamBridge } from "./tor_bridge.ts";
import {
  type AuthorityIdentity,
  authorityTorrc,
  clientTorrc,
  type OnionServiceTargets,
  onionServiceTorrc,
  probePortFor,
  relayOrPort,
  relayTorrc,
  uploadedDescriptors,
} from "./tor_config.ts";
import { createAuthorityKeys } from "./tor_keys.ts";
import { startTor, type TorProcess } from "./tor_process.ts";
import { socks5Connect } from "./tor_socks.ts";

/** Directory authorities of every network. */
export const TOR_AUTHORITIES = 3;
/** Relays besides the authorities: guards, middles, HSDirs and exits for a hidden service. */
export const TOR_RELAYS = 5;
/** Most clients one network runs. */
export const MAX_TOR_CLIENTS = 8;
/** Most onion services one network runs. */
export const MAX_HIDDEN_SERVICES = 4;
/** Default bound on {@link startTorNetwork}'s bootstrap. */
export const TOR_BOOTSTRAP_TIMEOUT_MS = 120_000;
/** Default bound on {@link TorNetwork.restartHiddenService}. */
export const TOR_RESTART_TIMEOUT_MS = 90_000;

/** One onion service: where its streams go on the caller's loopback. */
export interface HiddenServiceOptions {
  /** TCP port on 127.0.0.1 (the caller's namespace) that the service forwards to. */
  port: number;
  /** The onion's port clients connect to. Default: `port`. */
  virtualPort?: number;
}

/** Options of {@link startTorNetwork}. */
export interface TorNetworkOptions {
  /** 1 to {@link MAX_HIDDEN_SERVICES} onion services. */
  hiddenServices: HiddenServiceOptions[];
  /** 1 to {@link MAX_TOR_CLIENTS} clients, each with its own SOCKS port. */
  clients: number;
  /**
   * Fixed loopback SOCKS ports, one per client (for a configuration written beforehand).
   * Default: free ports the system picks.
   */
  socksPorts?: number[];
  /** Bound on the whole start-up, bootstrap and first reachability. Default 120 s. */
  timeoutMs?: number;
}

/** Options of {@link TorNetwork.restartHiddenService}. */
export interface RestartOptions {
  /**
   * Resolve only once the onion answers through every client again (probing refreshes the
   * clients' cached descriptors). With false, resolve once the restarted service has stored
   * its new descriptors on every HSDir, which leaves finding the service again to the
   * caller's clients. Default true.
   */
  probe?: boolean;
  /** Bound on the restart. Default {@link TOR_RESTART_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** A running private Tor network. Always `stop()` it, in a `finally`. */
export interface TorNetwork {
  /** Namespace all tors run in (only a loopback inside). */
  readonly namespace: string;
  /** Onion address (`<56 chars>.onion`) of hidden service `i`. */
  onion(i: number): string;
  /** The onion port of hidden service `i` (its `virtualPort`). */
  onionPort(i: number): number;
  /** Loopback SOCKS5 endpoint of client `i`; use it with socks5h (names resolved by tor). */
  socks(i: number): { hostname: string; port: number };
  /** Process ids of every tor of the network. */
  pids(): number[];
  /**
   * Stops hidden service `i`'s tor and starts it again on the same keys (same onion);
   * see {@link RestartOptions} for when it resolves. Rejects with one line after the bound.
   * A client that fetches the descriptor while the service is down may shun the HSDirs it
   * asked for 15 minutes (tor's re-query limit), so probe only after this resolves.
   */
  restartHiddenService(i: number, options?: RestartOptions): Promise<void>;
  /** Stops every tor and bridge, deletes the namespace and the scratch directory. Idempotent. */
  stop(): Promise<void>;
}

function isPort(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
}

/** Checks the options; returns the one-line problem, or undefined when they are fine. */
export function torNetworkOptionsProblem(o: TorNetworkOptions): string | undefined {
  const count = o.hiddenServices?.length ?? 0;
  if (count < 1 || count > MAX_HIDDEN_SERVICES) {
    return `hiddenServices needs 1 to ${MAX_HIDDEN_SERVICES} entries (got ${count})`;
  }
  for (const [i, service] of o.hiddenServices.entries()) {
    if (!isPort(service.port)) {
      return `hidden service ${i}: port must be an integer from 1 to 65535 (got ${service.port})`;
    }
    if (service.virtualPort !== undefined && !isPort(service.virtualPort)) {
      return `hidden service ${i}: virtualPort must be an integer from 1 to 65535 ` +
        `(got ${service.virtualPort})`;
    }
  }
  if (!Number.isInteger(o.clients) || o.clients < 1 || o.clients > MAX_TOR_CLIENTS) {
    return `clients must be an integer from 1 to ${MAX_TOR_CLIENTS} (got ${o.clients})`;
  }
  if (o.socksPorts !== undefined) {
    if (o.socksPorts.length !== o.clients) {
      return `socksPorts needs one port per client (${o.clients}, got ${o.socksPorts.length})`;
    }
    const bad = o.socksPorts.find((p) => !isPort(p));
    if (bad !== undefined) return `socksPorts: ${bad} is not a port from 1 to 65535`;
    if (new Set(o.socksPorts).size !== o.socksPorts.length) return "socksPorts repeats a port";
  }
  if (o.timeoutMs !== undefined && !(Number.isFinite(o.timeoutMs) && o.timeoutMs > 0)) {
    return `timeoutMs must be a positive number (got ${o.timeoutMs})`;
  }
  return undefined;
}

/** Why this machine cannot run the network (not root, a missing tool), or undefined. */
export function torNetworkUnsupported(): string | undefined {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (Deno.uid() !== 0) return "not root (namespaces need CAP_SYS_ADMIN)";
  for (const [name, pkg] of [["ip", "iproute2"], ["sysctl", "procps"], ["tor", "tor"]]) {
    if (!findTool(name)) return `${name} not found (apt-get install ${pkg})`;
  }
  if (!findTool("tor-gencert")) return "tor-gencert not found (apt-get install tor)";
  return undefined;
}

// sockaddr_un's sun_path holds 108 bytes, the terminating NUL included.
const MAX_UNIX_PATH_BYTES = 107;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function listenLoopback(port: number, what: string): Deno.TcpListener {
  try {
    return Deno.listen({ hostname: "127.0.0.1", port });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) throw new Error(`${what}: 127.0.0.1:${port} is in use`);
    throw new Error(`${what}: cannot listen on 127.0.0.1:${port}: ${(e as Error).message}`);
  }
}

/** Hidden service `i`'s file layout and ports. */
function serviceLayout(dir: string, i: number, o: HiddenServiceOptions): OnionServiceTargets {
  const virtualPort = o.virtualPort ?? o.port;
  return {
    serviceDir: `${dir}/hs${i}/service`,
    virtualPort,
    targetSocket: `${dir}/hs${i}.target.sock`,
    probePort: probePortFor(virtualPort),
    probeSocket: `${dir}/hs${i}.probe.sock`,
  };
}

/**
 * Polls until every tor in `tors` logs `Bootstrapped 100%`. Rejects with one line when a tor
 * of `watch` exits (an authority with a bad torrc) or when `deadline` (ms since the epoch)
 * passes, naming the laggards.
 */
async function waitBootstrapped(
  tors: TorProcess[],
  deadline: number,
  watch: TorProcess[] = tors,
): Promise<void> {
  for (;;) {
    const exited = await firstExit(watch);
    if (exited) throw new Error(exited);
    const percents = await Promise.all(tors.map((t) => t.bootstrap()));
    const behind = tors.filter((_, i) => percents[i] < 100);
    if (behind.length === 0) return;
    if (Date.now() > deadline) {
      const lines = await Promise.all(behind.map((t) => t.failure()));
      throw new Error(`not bootstrapped: ${lines.join("; ")}`);
    }
    await sleep(250);
  }
}

/** Descriptor uploads a service makes when it (re)starts: two per HSDir, every relay one. */
const FULL_UPLOAD = 2 * (TOR_AUTHORITIES + TOR_RELAYS);

/**
 * Waits until `service` has stored its descriptors on every HSDir. Probing earlier is
 * harmful: a client that fetches a missing or stale descriptor from an HSDir will not ask
 * that HSDir again for 15 minutes, and this network has only eight.
 */
async function waitPublished(
  service: TorProcess,
  deadline: number,
  watch: TorProcess[],
): Promise<void> {
  for (;;) {
    const exited = await firstExit(watch);
    if (exited) throw new Error(exited);
    const uploaded = uploadedDescriptors(await service.infoLog());
    if (uploaded >= FULL_UPLOAD) return;
    if (Date.now() > deadline) {
      throw new Error(
        `tor ${service.nickname} stored ${uploaded} of ${FULL_UPLOAD} descriptors on HSDirs`,
      );
    }
    await sleep(250);
  }
}

/** Fails fast if a tor of the network exits while we wait for something else. */
async function firstExit(tors: TorProcess[]): Promise<string | undefined> {
  const exited = tors.find((t) => t.exitCode() !== undefined);
  return exited ? await exited.failure() : undefined;
}

/**
 * Probes `onion:port` through `proxy` until a CONNECT succeeds (the descriptor is
 * published, intro and rendezvous work, the service's tor reached its target). Rejects
 * with the last SOCKS error after `deadline`, or when a tor of `watch` exits.
 */
async function waitReachable(
  proxy: { hostname: string; port: number },
  onion: string,
  port: number,
  deadline: number,
  watch: TorProcess[],
): Promise<void> {
  let last = "no attempt";
  for (;;) {
    const exited = await firstExit(watch);
    if (exited) throw new Error(exited);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`${onion}:${port} unreachable: ${last}`);
    try {
      const conn = await socks5Connect(proxy, onion, port, Math.min(left, 30_000));
      conn.close();
      return;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(1_000);
  }
}

/**
 * Starts a private Tor network and resolves once every client has bootstrapped to 100%,
 * every onion service has stored its descriptors on every HSDir, and every onion answers
 * through every client. On failure, or after `timeoutMs`,
 * stops everything it started (no tor, namespace or scratch directory is left) and rejects
 * with one line naming the problem.
 */
export async function startTorNetwork(options: TorNetworkOptions): Promise<TorNetwork> {
  const problem = torNetworkOptionsProblem(options) ?? torNetworkUnsupported();
  if (problem) throw new Error(`tor network: ${problem}`);
  const timeoutMs = options.timeoutMs ?? TOR_BOOTSTRAP_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const bridges: StreamBridge[] = [];
  const tors: TorProcess[] = [];
  let ns: string | undefined;
  let dir: string | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      await Promise.all(bridges.map((b) => b.close()));
      await Promise.all(tors.map((t) => t.stop()));
      // Kills whatever a crash left in the namespace before deleting it.
      if (ns) await removeNamespaces([ns]);
      if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
  try {
    // Fixed ports first: a port in use fails before any tor starts.
    const socksListeners: Deno.TcpListener[] = [];
    for (let i = 0; i < options.clients; i++) {
      const listener = listenLoopback(options.socksPorts?.[i] ?? 0, `client ${i}'s SOCKS port`);
      socksListeners.push(listener);
      // Registered at once so that a later failure closes it.
      bridges.push({
        port: listener.addr.port,
        close: () => {
          try {
            listener.close();
          } catch { /* the bridge closed it */ }
          return Promise.resolve();
        },
      });
    }
    const prefix = newBedPrefix();
    dir = await makeBedDir(prefix);
    const longest = `${dir}/client${options.clients - 1}.socks.sock`;
    if (new TextEncoder().encode(longest).length > MAX_UNIX_PATH_BYTES) {
      throw new Error(
        `scratch directory ${dir} is too deep for Unix socket paths (${MAX_UNIX_PATH_BYTES} ` +
          "bytes at most): set a shorter TMPDIR",
      );
    }
    ns = `${prefix}-tor`;
    await addNamespace(ns);
    await sysctlIn(ns, [...IPV6_OFF]);

    const authorities: AuthorityIdentity[] = await Promise.all(
      Array.from({ length: TOR_AUTHORITIES }, (_, i) => createAuthorityKeys(i, `${dir}/auth${i}`)),
    );
    for (const [i, a] of authorities.entries()) {
      tors.push(
        await startTor(
          ns,
          a.nickname,
          `${dir}/auth${i}`,
          authorityTorrc(a, `${dir}/auth${i}`, authorities),
        ),
      );
    }
    for (let i = 0; i < TOR_RELAYS; i++) {
      const data = `${dir}/relay${i}`;
      tors.push(
        await startTor(
          ns,
          `relay${i}`,
          data,
          relayTorrc(`relay${i}`, relayOrPort(i), data, authorities),
        ),
      );
    }

    const layouts = options.hiddenServices.map((o, i) => serviceLayout(dir!, i, o));
    for (const [i, layout] of layouts.entries()) {
      const target = options.hiddenServices[i].port;
      bridges.push(bridge(
        Deno.listen({ transport: "unix", path: layout.targetSocket }),
        () => Deno.connect({ hostname: "127.0.0.1", port: target }),
      ));
      bridges.push(acceptAndClose(Deno.listen({ transport: "unix", path: layout.probeSocket })));
    }
    const serviceTorrcs = layouts.map((layout, i) =>
      onionServiceTorrc(`service${i}`, `${dir}/hs${i}`, authorities, layout)
    );
    const services: TorProcess[] = [];
    for (const [i, torrc] of serviceTorrcs.entries()) {
      services.push(await startTor(ns, `service${i}`, `${dir}/hs${i}`, torrc));
    }
    tors.push(...services);

    const clients: TorProcess[] = [];
    for (let i = 0; i < options.clients; i++) {
      const socket = `${dir}/client${i}.socks.sock`;
      clients.push(
        await startTor(
          ns,
          `client${i}`,
          `${dir}/client${i}`,
          clientTorrc(`client${i}`, `${dir}/client${i}`, authorities, socket),
        ),
      );
      bridges.push(
        bridge(socksListeners[i], () => Deno.connect({ transport: "unix", path: socket })),
      );
    }
    tors.push(...clients);

    await waitBootstrapped([...clients, ...services], deadline, tors);
    const onions = await Promise.all(
      layouts.map(async (l) => (await Deno.readTextFile(`${l.serviceDir}/hostname`)).trim()),
    );
    const socks = (i: number) => {
      if (!(i >= 0 && i < options.clients)) throw new Error(`no client ${i}`);
      return { hostname: "127.0.0.1", port: socksListeners[i].addr.port };
    };
    const probeAll = (i: number, until: number) =>
      Promise.all(
        clients.map((_, c) =>
          waitReachable(socks(c), onions[i], layouts[i].probePort, until, tors)
        ),
      );
    for (const s of services) await waitPublished(s, deadline, tors);
    for (let i = 0; i < layouts.length; i++) await probeAll(i, deadline);

    const service = (i: number) => {
      if (!(i >= 0 && i < layouts.length)) throw new Error(`no hidden service ${i}`);
      return i;
    };
    return {
      namespace: ns,
      onion: (i) => onions[service(i)],
      onionPort: (i) => layouts[service(i)].virtualPort,
      socks,
      pids: () => tors.map((t) => t.pid),
      restartHiddenService: async (i, restart = {}) => {
        service(i);
        const until = Date.now() + (restart.timeoutMs ?? TOR_RESTART_TIMEOUT_MS);
        const old = services[i];
        await old.stop();
        const fresh = await startTor(ns!, old.nickname, old.dataDir, serviceTorrcs[i]);
        services[i] = fresh;
        tors[tors.indexOf(old)] = fresh;
        try {
          await waitBootstrapped([fresh], until, tors);
          await waitPublished(fresh, until, tors);
          if (restart.probe ?? true) await probeAll(i, until);
        } catch (e) {
          throw new Error(`tor network: restart of hidden service ${i}: ${(e as Error).message}`);
        }
      },
      stop,
    };
  } catch (e) {
    await stop();
    // One line for the caller; the full text (a command's stderr) stays in `cause`.
    throw new Error(`tor network: ${(e as Error).message.split("\n")[0]}`, { cause: e });
  }
}
