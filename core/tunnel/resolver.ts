/**
 * Host name resolution for source requests, and the allowlist check on what it
 * resolves to.
 * @module
 */
import { lookup } from "node:dns/promises";
import { formatIp, type IpBytes, parseIp } from "../net/mod.ts";
import type { AllowList } from "./allow_list.ts";

/** Resolves a host name to IP literals. Injected so tests need no DNS. */
export type Resolver = (host: string) => Promise<string[]>;

/**
 * The system resolver (getaddrinfo, so /etc/hosts counts as it does for every
 * other program on the machine). Needs `--allow-net`.
 */
export const systemResolver: Resolver = async (host): Promise<string[]> => {
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
};

/** Outcome of checking a requested host against an allowlist. */
export type AddressCheck =
  | { allowed: true; addresses: string[] }
  | { allowed: false; reason: string };

/**
 * Resolves `host` and keeps the addresses `allowList` allows. The caller then
 * dials only those literal addresses, so a second lookup cannot smuggle in a
 * different answer (DNS rebinding).
 */
export async function resolveAllowed(
  host: string,
  allowList: AllowList,
  resolve: Resolver,
): Promise<AddressCheck> {
  let ips: IpBytes[];
  const literal = parseIp(host);
  if (literal) {
    ips = [literal];
  } else {
    let answers: string[];
    try {
      answers = await resolve(host);
    } catch {
      return { allowed: false, reason: `cannot resolve host '${host}' on the server` };
    }
    ips = answers.map(parseIp).filter((ip): ip is IpBytes => ip !== undefined);
    if (ips.length === 0) {
      return { allowed: false, reason: `host '${host}' has no addresses on the server` };
    }
  }
  const allowed = ips.filter((ip) => allowList.allows(ip)).map(formatIp);
  if (allowed.length === 0) {
    const shown = ips.map(formatIp).join(", ");
    return {
      allowed: false,
      reason: `${
        host === shown ? host : `${host} (${shown})`
      } is not in the server's allowed networks`,
    };
  }
  return { allowed: true, addresses: [...new Set(allowed)] };
}
