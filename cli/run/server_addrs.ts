/**
 * Resolves the client's `--server-addr` host names before dialing, so that a
 * name that does not resolve is reported with the flag and the value the user
 * typed (the dialer only knows addresses).
 * @module
 */
import { lookup } from "node:dns/promises";
import { parseIp } from "../../core/net/mod.ts";
import { formatHostPort, type TunnelLog } from "../../core/tunnel/mod.ts";

/** A `--server-addr` value, parsed. */
export interface ServerAddr {
  hostname: string;
  port: number;
}

/** Resolves a host name to one IP address, like the system's `getaddrinfo`. */
export type HostLookup = (hostname: string) => Promise<string>;

const systemLookup: HostLookup = async (hostname) => (await lookup(hostname)).address;

/**
 * Replaces each host name by its first address, in order; IP addresses pass
 * through. A name that does not resolve is skipped with a warning while
 * another remains to try.
 *
 * @throws {Error} "Cannot resolve --server-addr '<value>': <why>" when none resolves.
 * @example
 * ```ts
 * const addrs = await resolveServerAddrs([{ hostname: "localhost", port: 7000 }], out);
 * // [{ hostname: "127.0.0.1", port: 7000 }]
 * ```
 */
export async function resolveServerAddrs(
  addrs: ServerAddr[],
  out: Pick<TunnelLog, "warn">,
  resolve: HostLookup = systemLookup,
): Promise<ServerAddr[]> {
  const resolved: ServerAddr[] = [];
  const failures: string[] = [];
  for (const addr of addrs) {
    if (parseIp(addr.hostname)) {
      resolved.push(addr);
      continue;
    }
    try {
      resolved.push({ hostname: await resolve(addr.hostname), port: addr.port });
    } catch (error) {
      const value = formatHostPort(addr.hostname, addr.port);
      failures.push(`--server-addr '${value}': ${lookupFailure(error)}`);
    }
  }
  if (resolved.length === 0) throw new Error(`Cannot resolve ${failures.join("; ")}`);
  for (const failure of failures) out.warn(`cannot resolve ${failure}; trying the others`);
  return resolved;
}

function lookupFailure(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOTFOUND") return "no such host";
  if (code === "EAI_AGAIN") return "the name server did not answer (no network?)";
  return (error as Error).message ?? String(error);
}
