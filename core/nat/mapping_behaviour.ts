/**
 * A NAT's mapping behaviour (RFC 4787 §4.1) as far as STUN can tell, from the
 * addresses one socket was mapped to by different servers (sans-IO). Birthday
 * punching needs it: it pays off only when one side's mapping is
 * endpoint-dependent (a new public port per destination) and the other's is
 * endpoint-independent (one public port for every destination).
 * @module
 */
import type { IceCandidate } from "./ice_candidate.ts";

/**
 * `independent`: every server saw the socket at the same public address;
 * `dependent`: servers saw different ones (a symmetric NAT); `unknown`: fewer
 * than two servers answered, so nothing can be compared.
 */
export type MappingBehaviour = "independent" | "dependent" | "unknown";

/** One STUN answer for one socket. */
export interface MappedAnswer {
  /** The server asked, as `address port` (distinct servers differ here). */
  server: string;
  /** The public address it reported, as `address port`. */
  mapped: string;
}

/**
 * Classifies one socket's mapping from its STUN answers: at least two
 * distinct servers must have answered; the same public address from all of
 * them is independent, any difference dependent.
 */
export function classifyMapping(answers: readonly MappedAnswer[]): MappingBehaviour {
  const byServer = new Map<string, string>();
  for (const answer of answers) byServer.set(answer.server, answer.mapped);
  if (byServer.size < 2) return "unknown";
  return new Set(byServer.values()).size === 1 ? "independent" : "dependent";
}

/**
 * The mapping behaviour a set of candidates advertises for IPv4 (the family
 * NATs map): the `mapping` of its server-reflexive candidates, `unknown` when
 * none says, or when they disagree (one socket's answer cannot speak for
 * another's).
 */
export function advertisedMapping(candidates: readonly IceCandidate[]): MappingBehaviour {
  const seen = new Set(
    candidates
      // A port mapping says nothing of how the NAT maps other flows.
      .filter((c) => c.type === "srflx" && !c.portMap && !c.address.includes(":"))
      .map((c) => c.mapping ?? "unknown"),
  );
  return seen.size === 1 ? [...seen][0] : "unknown";
}
