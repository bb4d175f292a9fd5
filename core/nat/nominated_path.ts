/**
 * The result of ICE: one UDP path both peers confirmed, ready to be handed to QUIC.
 *
 * @module
 */

import type { CandidateType } from "./ice_candidate.ts";

/** One end of a nominated path. */
export interface PathEnd {
  /** Literal IP address. */
  address: string;
  /** UDP port. */
  port: number;
  /** How this address was learned: `host` (an interface address), `srflx` (seen by STUN),
   * `prflx` (first seen by the peer's connectivity checks) or `relay`. */
  type: CandidateType;
  /** The address is a port mapping the router granted (PCP, NAT-PMP or UPnP IGD). */
  portMapped?: boolean;
}

/**
 * A candidate pair that the ICE checks nominated and both peers confirmed.
 *
 * The agent's sockets stay open (and keep answering the peer) until
 * {@linkcode NominatedPath.release} is called; after it resolves, bind the QUIC
 * endpoint on `bindAddress:bindPort` and, as a client, dial `remote`.
 */
export interface NominatedPath {
  /** This side's address as the peer sees it, and its type. */
  local: PathEnd;
  /** The peer's address as this side sends to it, and its type. */
  remote: PathEnd;
  /** "Direct (Host)" | "NAT Traversal (Server Reflexive)" | "Peer Reflexive" | "Relayed",
   * from the candidate types of the pair (see {@linkcode connectionTypeOf}). */
  connectionType: string;
  /**
   * How the pair was found: `ice` (connectivity checks) or `birthday`
   * (birthday punching after ICE failed, see `punchBirthday`).
   */
  method: "ice" | "birthday";
  /** Closes the ICE agent and all its sockets so a QUIC endpoint can bind
   * `bindAddress:bindPort` right after. Idempotent. */
  release(): Promise<void>;
  /** The address the path's socket was bound to: werift binds the wildcard
   * (`0.0.0.0`, or `::` for IPv6), so the QUIC endpoint must bind it too. */
  readonly bindAddress: string;
  /** The local UDP port of the path: the NAT mapping the peer reaches belongs to it. */
  readonly bindPort: number;
}

/**
 * Names the kind of connection a nominated pair makes, as tunnel-rs prints it
 * after "Connection:". The least direct end decides: a relay anywhere makes it
 * relayed; otherwise a STUN-learned address means NAT traversal; otherwise an
 * address learned from the checks themselves means peer reflexive.
 *
 * @example
 * ```ts
 * connectionTypeOf("host", "host"); // "Direct (Host)"
 * connectionTypeOf("srflx", "host"); // "NAT Traversal (Server Reflexive)"
 * ```
 */
export function connectionTypeOf(local: CandidateType, remote: CandidateType): string {
  const types = [local, remote];
  if (types.includes("relay")) return "Relayed";
  if (types.includes("srflx")) return "NAT Traversal (Server Reflexive)";
  if (types.includes("prflx")) return "Peer Reflexive";
  return "Direct (Host)";
}

/**
 * How a direct path was found, as path lines and `tunnel status` name it:
 * `host` (interface addresses: one LAN), `server-reflexive` (addresses STUN
 * saw), `peer-reflexive` (addresses the checks themselves revealed),
 * `port-mapped` (an end is a port mapping its router granted), `birthday`
 * (birthday punching after ICE failed) or `relayed` (a TURN relay).
 */
export type PathMethod =
  | "host"
  | "server-reflexive"
  | "peer-reflexive"
  | "port-mapped"
  | "birthday"
  | "relayed";

/**
 * Names the method of a nominated path: birthday punching first, then a
 * port-mapped end, then the least direct candidate type of the pair.
 *
 * @example
 * ```ts
 * pathMethodOf({ method: "ice", local: { address: "10.0.0.2", port: 1, type: "host" }, remote: { address: "10.0.0.3", port: 2, type: "host" } }); // "host"
 * ```
 */
export function pathMethodOf(path: Pick<NominatedPath, "method" | "local" | "remote">): PathMethod {
  if (path.method === "birthday") return "birthday";
  const ends = [path.local, path.remote];
  if (ends.some((end) => end.portMapped)) return "port-mapped";
  const types = ends.map((end) => end.type);
  if (types.includes("relay")) return "relayed";
  if (types.includes("srflx")) return "server-reflexive";
  if (types.includes("prflx")) return "peer-reflexive";
  return "host";
}
