/**
 * A following client's status view (`--status`), served on loopback, with the
 * line that says how to read it.
 * @module
 */
import type { SessionFollower } from "../../core/endpoint/mod.ts";
import { formatHostPort } from "../../core/tunnel/mod.ts";
import type { Output } from "../output.ts";
import { serveStatus, type StatusDocument } from "../status_endpoint.ts";

/**
 * Serves `follower`'s status at `address`, with `more` of its mode (a VPN's
 * address), and prints the command that reads it.
 * @throws {Error} when the address cannot be bound.
 */
export function serveClientStatus(
  follower: SessionFollower,
  address: { host: string; port: number },
  out: Output,
  more: () => Pick<StatusDocument, "vpn"> = () => ({}),
): Deno.HttpServer<Deno.NetAddr> {
  const view = serveStatus(address, () => ({ ...follower.status(), ...more() }));
  out.info(`Status: tunnel status ${formatHostPort(view.addr.hostname, view.addr.port)}`);
  return view;
}
