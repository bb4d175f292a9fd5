// Shared set-up for the end-to-end tests: a server and a client of the real CLI,
// started with the forwarding permission set, on loopback.
import { generateToken } from "../../core/auth/mod.ts";
import {
  type ClientOptions,
  type ServerOptions,
  startClient,
  startServer,
  type TunnelClient,
  type TunnelServer,
} from "../harness/mod.ts";

export interface Tunnel extends AsyncDisposable {
  server: TunnelServer;
  client: TunnelClient;
  token: string;
}

/** Starts a server allowing loopback TCP and UDP, and a client for `source`. */
export async function openTunnel(
  source: string,
  server: Partial<ServerOptions> = {},
  client: Partial<ClientOptions> = {},
): Promise<Tunnel> {
  const token = generateToken();
  const s = await startServer({
    authTokens: token,
    bind: "127.0.0.1:0",
    allowedTcp: ["127.0.0.0/8"],
    allowedUdp: ["127.0.0.0/8"],
    ...server,
  });
  try {
    const c = await startClient({
      serverNodeId: s.endpointId,
      serverAddr: s.addr,
      source,
      authToken: token,
      ...client,
    });
    return {
      server: s,
      client: c,
      token,
      async [Symbol.asyncDispose]() {
        await c[Symbol.asyncDispose]();
        await s[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await s[Symbol.asyncDispose]();
    throw error;
  }
}

/**
 * Resident set size of a process in bytes, from `ps` (Deno allows reading
 * /proc of other processes only with --allow-all), or undefined without `ps`.
 */
export async function rssBytes(pid: number): Promise<number | undefined> {
  try {
    const { stdout, success } = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", String(pid)],
    })
      .output();
    const kib = Number(new TextDecoder().decode(stdout).trim());
    return success && Number.isFinite(kib) && kib > 0 ? kib * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * VmRSS and VmHWM (the kernel's record of the peak RSS) of a process, in KiB.
 * Through `cat`: Deno lets only --allow-all read /proc/<pid>, and `deno task
 * test` grants --allow-run but not that.
 */
export async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  const status = new TextDecoder().decode(stdout);
  const field = (name: string) =>
    Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"))![1]);
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

/** A relay's counters, by name with labels (`tunnel_relay_refusals_total{reason="timeout"}`). */
export async function relayMetrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = line.match(/^(tunnel_relay_\S+) (\d+)$/);
    if (match) values.set(match[1], Number(match[2]));
  }
  return values;
}

/** Whether a program is on PATH (tests of real peers skip without them). */
export function haveProgram(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}
