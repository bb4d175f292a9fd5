/**
 * ICE credentials and candidates as plain data, plus their text form.
 *
 * werift-ice models candidates as mutable class instances carrying werift-only
 * fields (generation, ufrag, a random id); the signaling codecs want plain
 * objects they can validate and pack. Everything crossing the `core/nat`
 * boundary uses the types below.
 *
 * @module
 */

import { isIP } from "node:net";

/** The short-term credentials an ICE agent authenticates its checks with (RFC 8445 §5.3). */
export interface IceCredentials {
  /** Username fragment: 4 to 256 characters of ICE-char (`[A-Za-z0-9+/]`). */
  ufrag: string;
  /** Password: 22 to 256 characters of ICE-char. Secret: only the peer may learn it. */
  pwd: string;
}

/** How a candidate address was learned (RFC 8445 §5.1.1). */
export type CandidateType = "host" | "srflx" | "prflx" | "relay";

/** One UDP transport address an agent can be reached at (the `candidate` attribute of RFC 8839). */
export interface IceCandidate {
  /** Groups candidates of the same type and base; 1 to 32 ICE-chars. */
  foundation: string;
  /** Always 1: one component (no RTCP) is all a tunnel needs. */
  component: number;
  /** Only UDP: QUIC takes the path over afterwards. */
  transport: "udp";
  /** RFC 8445 §5.1.2 priority, 1 to 2^31 - 1. */
  priority: number;
  /** A literal IPv4 or IPv6 address (never an mDNS `.local` name). */
  address: string;
  /** UDP port, 1 to 65535. */
  port: number;
  /** How the address was learned. */
  type: CandidateType;
  /** For srflx/relay: the base address the candidate was derived from. */
  relatedAddress?: string;
  /** For srflx/relay: the base port the candidate was derived from. */
  relatedPort?: number;
  /**
   * For srflx: the NAT's mapping behaviour as this side's STUN servers showed
   * it for the candidate's base socket (absent: unknown). Travels as the
   * extension attribute `mapping independent|dependent`, which older peers
   * ignore (RFC 8839: unknown extensions are skipped).
   */
  mapping?: "independent" | "dependent";
  /**
   * For srflx: the address is a port mapping this side's router granted, and by
   * which protocol. Travels as the extension attribute `portmap pcp|nat-pmp|upnp`
   * (older peers skip it), so both sides can name a port-mapped path.
   */
  portMap?: "pcp" | "nat-pmp" | "upnp";
}

const CANDIDATE_TYPES: readonly CandidateType[] = ["host", "srflx", "prflx", "relay"];
// A value we do not know is skipped like an unknown extension, so a later one cannot break us.
const MAPPINGS: readonly string[] = ["independent", "dependent"];
const PORT_MAPS: readonly string[] = ["pcp", "nat-pmp", "upnp"];
// RFC 8445 §5.1.2.1: priority is a 32-bit field but the formula never sets the top bit.
const MAX_PRIORITY = 2 ** 31 - 1;
// RFC 8839 §5.1: foundation is 1*32ice-char; ufrag/pwd use the same alphabet.
const ICE_CHARS = /^[A-Za-z0-9+/]+$/;

/**
 * Formats a candidate as the value of an SDP `candidate` attribute (RFC 8839 §5.1),
 * e.g. `"a1b2 1 udp 2130706431 192.0.2.7 50000 typ host"`.
 *
 * @example
 * ```ts
 * formatCandidate({ foundation: "1", component: 1, transport: "udp", priority: 1,
 *   address: "192.0.2.7", port: 5000, type: "host" }); // "1 1 udp 1 192.0.2.7 5000 typ host"
 * ```
 */
export function formatCandidate(candidate: IceCandidate): string {
  const c = validateCandidate(candidate);
  let text =
    `${c.foundation} ${c.component} ${c.transport} ${c.priority} ${c.address} ${c.port} typ ${c.type}`;
  if (c.relatedAddress !== undefined) text += ` raddr ${c.relatedAddress}`;
  if (c.relatedPort !== undefined) text += ` rport ${c.relatedPort}`;
  if (c.mapping !== undefined) text += ` mapping ${c.mapping}`;
  if (c.portMap !== undefined) text += ` portmap ${c.portMap}`;
  return text;
}

/**
 * Parses the value of an SDP `candidate` attribute (with or without the
 * `candidate:` prefix). Unknown extension attributes (`generation`, `ufrag`, ...)
 * are ignored, as RFC 8839 requires.
 *
 * @throws {TypeError} when the text is not a valid UDP candidate with a literal IP address.
 */
export function parseCandidate(text: string): IceCandidate {
  const fields = text.trim().replace(/^a=/, "").replace(/^candidate:/, "").split(/\s+/);
  if (fields.length < 8 || fields[6] !== "typ") {
    throw new TypeError(
      `Cannot parse ICE candidate: expected "<foundation> <component> udp <priority> <address> <port> typ <type>", got "${text}"`,
    );
  }
  const [foundation, component, transport, priority, address, port, , type] = fields;
  const candidate: IceCandidate = {
    foundation,
    component: _parseInteger(component, "component"),
    transport: transport.toLowerCase() as "udp",
    priority: _parseInteger(priority, "priority"),
    address,
    port: _parseInteger(port, "port"),
    type: type as CandidateType,
  };
  for (let i = 8; i + 1 < fields.length; i += 2) {
    if (fields[i] === "raddr") candidate.relatedAddress = fields[i + 1];
    else if (fields[i] === "rport") candidate.relatedPort = _parseInteger(fields[i + 1], "rport");
    else if (fields[i] === "mapping" && MAPPINGS.includes(fields[i + 1])) {
      candidate.mapping = fields[i + 1] as "independent" | "dependent";
    } else if (fields[i] === "portmap" && PORT_MAPS.includes(fields[i + 1])) {
      candidate.portMap = fields[i + 1] as "pcp" | "nat-pmp" | "upnp";
    }
  }
  return validateCandidate(candidate);
}

/**
 * Checks a candidate received from a peer and returns it unchanged.
 *
 * Rejecting non-literal addresses matters: werift would resolve a `.local`
 * name over multicast DNS, and this tool never sends multicast.
 *
 * @throws {TypeError} naming the first field that is out of range.
 */
export function validateCandidate(candidate: IceCandidate): IceCandidate {
  const c = candidate;
  const fail = (why: string): never => {
    throw new TypeError(`Cannot use ICE candidate: ${why}`);
  };
  if (
    typeof c.foundation !== "string" || c.foundation.length > 32 || !ICE_CHARS.test(c.foundation)
  ) {
    fail(`foundation must be 1 to 32 ICE characters, got "${c.foundation}"`);
  }
  if (c.component !== 1) fail(`only component 1 is supported, got ${c.component}`);
  if (c.transport !== "udp") fail(`only UDP candidates are supported, got "${c.transport}"`);
  if (!Number.isInteger(c.priority) || c.priority < 1 || c.priority > MAX_PRIORITY) {
    fail(`priority must be an integer in 1..${MAX_PRIORITY}, got ${c.priority}`);
  }
  if (isIP(c.address) === 0) fail(`address must be a literal IP address, got "${c.address}"`);
  if (!_isPort(c.port)) fail(`port must be in 1..65535, got ${c.port}`);
  if (!CANDIDATE_TYPES.includes(c.type)) fail(`unknown candidate type "${c.type}"`);
  if (c.relatedAddress !== undefined && isIP(c.relatedAddress) === 0) {
    fail(`related address must be a literal IP address, got "${c.relatedAddress}"`);
  }
  if (c.relatedPort !== undefined && !(c.relatedPort === 0 || _isPort(c.relatedPort))) {
    fail(`related port must be in 0..65535, got ${c.relatedPort}`);
  }
  if (c.mapping !== undefined && !MAPPINGS.includes(c.mapping)) {
    fail(`unknown mapping behaviour "${c.mapping}"`);
  }
  if (c.portMap !== undefined && (c.type !== "srflx" || !PORT_MAPS.includes(c.portMap))) {
    fail(`a port mapping is an srflx candidate by pcp, nat-pmp or upnp, got "${c.portMap}"`);
  }
  return c;
}

/**
 * Checks ICE credentials received from a peer and returns them unchanged.
 *
 * @throws {TypeError} when a field is too short, too long or has a character outside ICE-char.
 */
export function validateCredentials(credentials: IceCredentials): IceCredentials {
  const { ufrag, pwd } = credentials;
  // RFC 8445 §5.3: ufrag at least 24 bits (4 chars), pwd at least 128 bits (22 chars).
  if (
    typeof ufrag !== "string" || ufrag.length < 4 || ufrag.length > 256 || !ICE_CHARS.test(ufrag)
  ) {
    throw new TypeError("Cannot use ICE credentials: ufrag must be 4 to 256 ICE characters");
  }
  if (typeof pwd !== "string" || pwd.length < 22 || pwd.length > 256 || !ICE_CHARS.test(pwd)) {
    throw new TypeError("Cannot use ICE credentials: pwd must be 22 to 256 ICE characters");
  }
  return credentials;
}

function _parseInteger(text: string, field: string): number {
  if (!/^\d{1,10}$/.test(text)) {
    throw new TypeError(
      `Cannot parse ICE candidate: ${field} must be a decimal integer, got "${text}"`,
    );
  }
  return Number(text);
}

function _isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
