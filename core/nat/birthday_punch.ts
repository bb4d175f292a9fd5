/**
 * Birthday punching after ICE failed: who does what, decided from the mapping
 * behaviour both sides advertised with their candidates (sans-IO:
 * {@linkcode decideBirthday}), then the run whose winning pair is handed over
 * like an ICE-nominated path ({@linkcode punchBirthday}).
 * @module
 */
import { isIP } from "node:net";
import { ipv4Scope, parseIp } from "../net/mod.ts";
import type { IceCandidate } from "./ice_candidate.ts";
import { advertisedMapping } from "./mapping_behaviour.ts";
import { type BirthdayAddress, BirthdaySession } from "./birthday_session.ts";
import { type RandomSource, secureRandom } from "./birthday_plan.ts";
import { birthdayToken } from "./birthday_message.ts";
import { runBirthday } from "./birthday_run.ts";
import { type BirthdaySocketOpener, denoBirthdaySockets } from "./birthday_sockets.ts";
import type { NominatedPath } from "./nominated_path.ts";

/** What this side does, or why it does not punch. */
export type BirthdayDecision =
  | { role: "prober"; localPort: number; local: BirthdayAddress; peer: BirthdayAddress }
  | { role: "sprayer"; local: BirthdayAddress; peer: BirthdayAddress }
  | { role: "none"; reason: string };

/**
 * Decides from both sides' candidates: only an endpoint-dependent NAT facing
 * an endpoint-independent one punches. The prober uses its first IPv4
 * server-reflexive candidate's socket; the sprayer aims at the peer's first
 * one (both read the same list in the same order). Addresses a probe could
 * never legitimately need (loopback, private, shared, link-local, multicast,
 * broadcast, unspecified) are refused, so a peer cannot point our probes
 * into our own network. Every check looks at both lists alike, so the two
 * sides, each passing (its own, the peer's), reach the same verdict.
 */
export function decideBirthday(
  local: readonly IceCandidate[],
  remote: readonly IceCandidate[],
): BirthdayDecision {
  const ours = advertisedMapping(local);
  const theirs = advertisedMapping(remote);
  if (ours === "unknown") {
    return {
      role: "none",
      reason: "our NAT's mapping behaviour is unknown (it takes answers from two STUN servers)",
    };
  }
  if (theirs === "unknown") {
    return {
      role: "none",
      reason:
        "the peer's NAT mapping behaviour is unknown (it needs answers from two STUN servers)",
    };
  }
  if (ours === theirs) {
    return {
      role: "none",
      reason: ours === "dependent"
        ? "both NATs map per destination (symmetric): no side can be probed"
        : "neither NAT maps per destination: birthday punching has nothing to add",
    };
  }
  const mine = firstReflexive(local);
  const peer = firstReflexive(remote);
  if (!mine || !peer) return { role: "none", reason: "no IPv4 server-reflexive candidate" };
  // Every check looks at both sides alike, so both reach the same verdict from the same two lists.
  for (const [whose, candidate] of [["our", mine], ["the peer's", peer]] as const) {
    if (!isProbeTarget(candidate.address)) {
      return {
        role: "none",
        reason: `${whose} public address ${candidate.address} is not a public unicast address`,
      };
    }
  }
  const probing = ours === "independent" ? mine : peer;
  if (probing.relatedPort === undefined || probing.relatedPort === 0) {
    return { role: "none", reason: "the probing side's reflexive candidate names no local port" };
  }
  if (ours === "dependent") {
    return {
      role: "sprayer",
      // Our public port on the winning socket is whatever our NAT drew: unknown here.
      local: { address: mine.address, port: 0 },
      peer: { address: peer.address, port: peer.port },
    };
  }
  return {
    role: "prober",
    localPort: probing.relatedPort,
    local: { address: mine.address, port: mine.port },
    peer: { address: peer.address, port: 0 },
  };
}

function firstReflexive(candidates: readonly IceCandidate[]): IceCandidate | undefined {
  return candidates.find((c) => c.type === "srflx" && !c.portMap && isIP(c.address) === 4);
}

/**
 * Whether probes may go to `address`: a public IPv4 unicast address. The
 * refused ranges would let a peer aim our probes at hosts of our own
 * network, and no NAT the peer sits behind hands out such a public address.
 */
export function isProbeTarget(address: string): boolean {
  if (isIP(address) !== 4) return false;
  return ipv4Scope(parseIp(address)!) === "public";
}

/** Options of {@linkcode punchBirthday}. */
export interface BirthdayPunchOptions {
  /** What {@linkcode decideBirthday} said to do (not "none"). */
  decision: Exclude<BirthdayDecision, { role: "none" }>;
  /** The attempt's join secret; the probes carry a MAC of it. */
  secret: Uint8Array;
  /** Ends the punch early (every socket closes). */
  signal?: AbortSignal;
  /** Sockets (default: real ones). */
  sockets?: BirthdaySocketOpener;
  /** Port choice (default: the CSPRNG). */
  random?: RandomSource;
}

/**
 * Punches and returns the pair as a path QUIC can take over: its socket is
 * closed already, so bind `bindAddress:bindPort` and (client) dial `remote`.
 * @throws {BirthdayFailedError} when no pair is agreed within the bounds.
 */
export async function punchBirthday(options: BirthdayPunchOptions): Promise<NominatedPath> {
  const { decision } = options;
  const session = new BirthdaySession({
    role: decision.role,
    token: await birthdayToken(options.secret),
    peer: decision.peer,
    random: options.random ?? secureRandom(),
  });
  const result = await runBirthday(session, {
    sockets: options.sockets ?? denoBirthdaySockets,
    localPort: decision.role === "prober" ? decision.localPort : 0,
    signal: options.signal,
  });
  return {
    local: { ...decision.local, type: decision.role === "prober" ? "srflx" : "prflx" },
    remote: { ...result.remote, type: "prflx" },
    connectionType: "NAT Traversal (Birthday)",
    method: "birthday",
    bindAddress: "0.0.0.0",
    bindPort: result.localPort,
    release: () => Promise.resolve(),
  };
}
