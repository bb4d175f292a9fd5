/**
 * The addresses a server bound to a wildcard can be dialed at.
 * @module
 */
import { formatHostPort } from "../tunnel/mod.ts";

/**
 * Lists `host:port` for every interface address when bound to a wildcard and
 * the `networkInterfaces` permission is granted; otherwise the bound address
 * with a hint. Never prompts for permission.
 */
export function dialableAddresses(bound: { hostname: string; port: number }): string[] {
  const wildcard = bound.hostname === "::" || bound.hostname === "0.0.0.0";
  if (!wildcard) return [formatHostPort(bound.hostname, bound.port)];
  const permission = Deno.permissions.querySync({ name: "sys", kind: "networkInterfaces" });
  if (permission.state !== "granted") {
    return [
      `${
        formatHostPort(bound.hostname, bound.port)
      } (all interfaces; add --allow-sys=networkInterfaces to list them)`,
    ];
  }
  const families = bound.hostname === "::" ? ["IPv4", "IPv6"] : ["IPv4"];
  return Deno.networkInterfaces()
    // Link-local IPv6 needs a zone id to be dialed; leaving it out avoids
    // printing addresses that do not work when copied.
    .filter((i) => families.includes(i.family) && !i.address.toLowerCase().startsWith("fe80:"))
    .map((i) => formatHostPort(i.address, bound.port));
}
