/**
 * Server-reflexive candidates: ask a STUN server which address a socket's
 * packets leave the NAT with (RFC 8489 Binding request).
 *
 * werift can query only one STUN server and falls back to Google's when none
 * is given, so we keep its STUN gathering off and query every configured
 * server from every host socket ourselves, through the socket's own protocol
 * object (the mapping belongs to that socket, so it must be the sender).
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { StunProtocol } from "werift-ice";
import type { IceCandidate } from "./ice_candidate.ts";
import { classifyMapping, type MappingBehaviour } from "./mapping_behaviour.ts";
import { _isLoopback } from "./_host_addresses.ts";
import type { _Address, _Werift } from "./_werift.ts";

/** The IANA STUN port, used when a server is given without one. */
const DEFAULT_STUN_PORT = 3478;
/**
 * First response wait; it doubles on each retransmission. Lower than RFC
 * 8489's 500 ms because gathering blocks the user, and a STUN server a
 * tunnel relies on answers well within 200 ms.
 */
const STUN_RTO_MS = 200;
/** 1 + 3 sends at 200/400/800/1600 ms: a silent server costs 3 s at most. */
const STUN_RETRANSMISSIONS = 3;

/**
 * Parses `host:port`, `[v6]:port`, or a bare host (port 3478).
 *
 * @throws {TypeError} when the port is not in 1..65535 or the host is empty.
 */
export function _parseStunServer(text: string): _Address {
  const trimmed = text.trim().replace(/^stun:/i, "");
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  if (bracketed) {
    [, host, portText] = bracketed;
  } else if (isIP(trimmed) === 6) {
    host = trimmed;
  } else {
    const colon = trimmed.lastIndexOf(":");
    host = colon === -1 ? trimmed : trimmed.slice(0, colon);
    portText = colon === -1 ? undefined : trimmed.slice(colon + 1);
  }
  const port = portText === undefined ? DEFAULT_STUN_PORT : Number(portText);
  if (
    host === "" || !/^\d*$/.test(portText ?? "") || !Number.isInteger(port) || port < 1 ||
    port > 65535
  ) {
    throw new TypeError(`Cannot use STUN server "${text}": expected host:port`);
  }
  return [host, port];
}

/** Resolves a server to its addresses; a name that does not resolve yields none. */
export async function _resolveStunServer(server: _Address): Promise<_Address[]> {
  const [host, port] = server;
  if (isIP(host) !== 0) return [server];
  try {
    const found = await lookup(host, { all: true });
    return found.map(({ address }) => [address, port] as const);
  } catch {
    return [];
  }
}

/**
 * Sends a Binding request from `protocol`'s socket to `server` (a literal
 * address) and returns the XOR-MAPPED-ADDRESS, or `undefined` when the server
 * stays silent for ~3 s, answers with an error, or `signal` aborts.
 */
export async function _queryServerReflexive(
  werift: _Werift,
  protocol: StunProtocol,
  server: _Address,
  signal?: AbortSignal,
): Promise<_Address | undefined> {
  const request = new werift.Message(werift.methods.BINDING, werift.classes.REQUEST);
  try {
    const [response] = await protocol.request(request, server, undefined, {
      retransmissions: STUN_RETRANSMISSIONS,
      responseTimeout: STUN_RTO_MS,
      signal,
    });
    const mapped = response.getAttributeValue("XOR-MAPPED-ADDRESS") as unknown;
    if (!Array.isArray(mapped) || isIP(mapped[0]) === 0 || typeof mapped[1] !== "number") {
      return undefined;
    }
    return [mapped[0], mapped[1]];
  } catch {
    return undefined;
  }
}

/**
 * Queries every STUN server address from every host socket of the same family
 * and scope. Each server-reflexive candidate carries its socket's mapping
 * behaviour when two or more distinct servers answered that socket.
 */
export async function _gatherServerReflexive(
  werift: _Werift,
  protocols: StunProtocol[],
  servers: _Address[],
  known: IceCandidate[],
  signal?: AbortSignal,
): Promise<IceCandidate[]> {
  if (servers.length === 0) return [];
  const addresses = (await Promise.all(servers.map(_resolveStunServer))).flat();
  const queries = protocols.flatMap((protocol) => {
    const base = protocol.localCandidate!;
    return addresses
      .filter(([host]) =>
        isIP(host) === isIP(base.host) && _isLoopback(host) === _isLoopback(base.host)
      )
      .map(async (server) => ({
        base,
        server,
        mapped: await _queryServerReflexive(werift, protocol, server, signal),
      }));
  });
  const results = await Promise.all(queries);
  // Each socket's answers from distinct servers tell its NAT's mapping behaviour.
  const mappingOf = new Map<string, MappingBehaviour>();
  for (const { base } of results) {
    const key = `${base.host} ${base.port}`;
    if (mappingOf.has(key)) continue;
    const answers = results
      .filter((r) => r.base === base && r.mapped)
      .map((r) => ({
        server: `${r.server[0]} ${r.server[1]}`,
        mapped: `${r.mapped![0]} ${r.mapped![1]}`,
      }));
    mappingOf.set(key, classifyMapping(answers));
  }
  const found: IceCandidate[] = [];
  const seen = new Set(known.map((c) => `${c.address} ${c.port}`));
  for (const { base, mapped } of results) {
    if (!mapped || seen.has(`${mapped[0]} ${mapped[1]}`)) continue;
    seen.add(`${mapped[0]} ${mapped[1]}`);
    const mapping = mappingOf.get(`${base.host} ${base.port}`);
    found.push({
      foundation: werift.candidateFoundation("srflx", "udp", base.host),
      component: 1,
      transport: "udp",
      priority: werift.candidatePriority("srflx", { transport: "udp" }),
      address: mapped[0],
      port: mapped[1],
      type: "srflx",
      relatedAddress: base.host,
      relatedPort: base.port,
      ...(mapping === "unknown" || mapping === undefined ? {} : { mapping }),
    });
  }
  return found;
}
