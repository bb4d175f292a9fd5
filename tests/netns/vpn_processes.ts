/**
 * `tunnel vpn server` and `tunnel vpn client` inside network namespaces, and what the
 * VPN tests look at around them: pings, TUN devices and routes of a namespace, and
 * extra namespaces hung off an existing one by their own veth link.
 * @module
 */
import { ManagedProcess, tunnelCommandArgs } from "../harness/mod.ts";
import { runInNamespace } from "./command.ts";
import { addNamespace, ipBatch, IPV6_OFF, removeNamespaces, sysctlIn } from "./namespaces.ts";
import { inNamespace } from "./tunnels_in_bed.ts";

/** A namespace: anything with `ns` (a bed host, a veth pair end, an extra host). */
export interface InNamespace {
  readonly ns: string;
}

/** A `tunnel vpn server` that printed its ready line. */
export interface VpnServerProcess {
  readonly proc: ManagedProcess;
  /** Its EndpointId. */
  readonly id: string;
  /** Its VPN address (`10.0.0.1`). */
  readonly address: string;
  /** Its TUN device (`tun0`). */
  readonly device: string;
}

/** A `tunnel vpn client` whose device is up. */
export interface VpnClientProcess {
  readonly proc: ManagedProcess;
  /** The address the server gave it (`10.0.0.2`). */
  readonly address: string;
  /** Its TUN device. */
  readonly device: string;
}

/** Options of {@link startVpnServer} and {@link startVpnClient}. */
export interface VpnProcessOptions {
  /** Files the process may read besides its defaults (`--secret-file`). */
  readPaths?: string[];
  /** Entry point instead of the project's `cli/main.ts` (the bench's `--tunnel-main`). */
  mainModule?: string;
  /** Bound on the ready line. Default 30,000 ms. */
  timeoutMs?: number;
}

const SERVER_LINE = /^VPN network \S+: this server is (\S+) on (\S+) \(MTU \d+\)/;
const CLIENT_LINE = /^VPN ready: ([\d.]+)\/\d+ on (\S+) \(MTU \d+\)/;

/** Spawns `tunnel vpn <cliArgs>` in `host`'s namespace, stopped with SIGINT. */
export function spawnVpn(
  host: InNamespace,
  cliArgs: string[],
  options: VpnProcessOptions = {},
): ManagedProcess {
  return ManagedProcess.spawn("ip", {
    args: inNamespace(host.ns, [
      Deno.execPath(),
      ...tunnelCommandArgs(["vpn", ...cliArgs], {
        readPaths: options.readPaths,
        mainModule: options.mainModule,
      }),
    ]),
    stopSignal: "SIGINT",
    graceMs: 5_000,
  });
}

/**
 * Starts `tunnel vpn server <args>` in `host`'s namespace; resolves once it waits for
 * clients. `args` carry the paths (`--bind`, `--no-relay`, ...) and `--auth-tokens`.
 *
 * @throws {Error} with its output when it exits or stays silent; it is stopped first.
 */
export async function startVpnServer(
  host: InNamespace,
  args: string[],
  options: VpnProcessOptions = {},
): Promise<VpnServerProcess> {
  const proc = spawnVpn(host, ["server", ...args], options);
  try {
    await proc.waitForLine("Waiting for clients to connect...", {
      stream: "stdout",
      timeoutMs: options.timeoutMs ?? 30_000,
    });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  const stdout = proc.lines("stdout");
  const id = stdout.find((l) => l.startsWith("EndpointId: "))?.slice("EndpointId: ".length);
  const network = stdout.map((l) => SERVER_LINE.exec(l)).find((m) => m);
  if (!id || !network) {
    await proc.stop();
    throw new Error(`tunnel vpn server printed no EndpointId or VPN line:\n${stdout.join("\n")}`);
  }
  return { proc, id, address: network[1], device: network[2] };
}

/**
 * Starts `tunnel vpn client -n <serverId> <args>` in `host`'s namespace with its own
 * `--lock-file` (the default under /run is shared by every namespace); resolves once
 * its device is up.
 *
 * @throws {Error} with its output when it exits or stays silent; it is stopped first.
 */
export async function startVpnClient(
  host: InNamespace,
  serverId: string,
  args: string[],
  options: VpnProcessOptions & { lockFile: string },
): Promise<VpnClientProcess> {
  const proc = spawnVpn(host, [
    "client",
    "-n",
    serverId,
    "--lock-file",
    options.lockFile,
    ...args,
  ], options);
  try {
    const line = await proc.waitForLine(CLIENT_LINE, {
      stream: "stdout",
      timeoutMs: options.timeoutMs ?? 30_000,
    });
    const [, address, device] = CLIENT_LINE.exec(line)!;
    return { proc, address, device };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/**
 * Waits up to `timeoutMs` for `proc` to exit by itself and returns its status.
 *
 * @throws {Error} when it is still running then (it is stopped first).
 */
export async function exitWithin(
  proc: ManagedProcess,
  timeoutMs: number,
): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const status = await Promise.race([proc.status, late]).finally(() => clearTimeout(timer));
  if (status === undefined) {
    await proc.stop();
    throw new Error(`${proc.command} still ran after ${timeoutMs} ms:\n${proc.stderrText()}`);
  }
  await proc.stop(); // drains its output
  return status;
}

/**
 * Pings `ip` from `host` until one echo comes back (a fresh tunnel's first packet waits
 * for the WireGuard handshake) or `timeoutMs` passes.
 *
 * @throws {Error} naming the namespace, target and ping's last output.
 */
export async function waitForPing(
  host: InNamespace,
  ip: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  // Bounded by the deadline; each try waits at most 1 s (-W 1) for its reply.
  while (performance.now() < deadline) {
    const result = await runInNamespace(host.ns, ["ping", "-n", "-c", "1", "-W", "1", ip]);
    if (result.code === 0) return;
    last = (result.stdout + result.stderr).trim().split("\n").slice(-2).join(" / ");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ping reply from ${ip} in ${host.ns} within ${timeoutMs} ms: ${last}`);
}

/** Names of the TUN devices in `host`'s namespace. */
export async function tunDevices(host: InNamespace): Promise<string[]> {
  const result = await runInNamespace(host.ns, ["ip", "-o", "link", "show", "type", "tun"]);
  if (result.code !== 0) throw new Error(`ip link failed in ${host.ns}: ${result.stderr}`);
  return result.stdout.split("\n").map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** `ip -4 route` of `host`'s namespace, one route a line. */
export async function routes(host: InNamespace): Promise<string[]> {
  const result = await runInNamespace(host.ns, ["ip", "-4", "route"]);
  if (result.code !== 0) throw new Error(`ip route failed in ${host.ns}: ${result.stderr}`);
  return result.stdout.split("\n").map((line) => line.trim()).filter(Boolean);
}

/** An extra namespace joined to another one by its own veth link. */
export interface ExtraHost {
  /** Its namespace. */
  readonly ns: string;
  /** Its address on the new link. */
  readonly ip: string;
  /** The other end's address on the new link. */
  readonly peerIp: string;
  /** The other end's device name (in the namespace it was hung off). */
  readonly peerDevice: string;
  /** The new link's subnet (`x.y.z.0/24`). */
  readonly subnet: string;
  /** Kills everything inside and deletes it. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates namespace `<prefix>-<role>` (prefix taken from `to.ns`, so a crashed run's
 * leftovers are swept with the bed's) and a veth from `to`'s namespace (device
 * `peerDevice`, `<subnet>.1/24`) to it (`eth0`, `<subnet>.2/24`). With `defaultRoute`
 * the new host routes everything through `to`; without, it reaches only the link.
 */
export async function addVethHost(
  to: InNamespace,
  options: { role: string; subnet: string; peerDevice: string; defaultRoute?: boolean },
): Promise<ExtraHost> {
  const prefix = to.ns.replace(/-[a-z]+$/, "");
  const ns = `${prefix}-${options.role}`;
  const [peerIp, ip] = [`${options.subnet}.1`, `${options.subnet}.2`];
  let closing: Promise<void> | undefined;
  const close = () => closing ??= removeNamespaces([ns]);
  try {
    await addNamespace(ns);
    await sysctlIn(ns, [...IPV6_OFF]);
    await ipBatch(to.ns, [
      `link add ${options.peerDevice} type veth peer name eth0 netns ${ns}`,
      `addr add ${peerIp}/24 dev ${options.peerDevice}`,
      `link set ${options.peerDevice} up`,
    ]);
    await ipBatch(ns, [
      `addr add ${ip}/24 dev eth0`,
      "link set eth0 up",
      ...(options.defaultRoute ? [`route add default via ${peerIp}`] : []),
    ]);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    ns,
    ip,
    peerIp,
    peerDevice: options.peerDevice,
    subnet: `${options.subnet}.0/24`,
    close,
  };
}
