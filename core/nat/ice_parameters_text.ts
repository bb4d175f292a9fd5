/**
 * ICE parameters as text lines (sans-IO): `ufrag …`, `pwd …`, then one
 * `candidate …` line each (RFC 8839 syntax), for signaling media that carry
 * text. Parsing is strict: every line known, nothing twice, at most
 * {@linkcode MAX_ICE_CANDIDATES} candidates, credentials and candidates checked.
 * @module
 */
import {
  formatCandidate,
  type IceCandidate,
  parseCandidate,
  validateCredentials,
} from "./ice_candidate.ts";
import type { RemoteIceParameters } from "./ice_agent.ts";

/** Most candidates a peer may send (host addresses and reflexive ones, per family). */
export const MAX_ICE_CANDIDATES = 32;

/** The lines of `ice` (at most {@linkcode MAX_ICE_CANDIDATES} candidates, the first ones). */
export function formatIceParameters(ice: RemoteIceParameters): string[] {
  return [
    `ufrag ${ice.credentials.ufrag}`,
    `pwd ${ice.credentials.pwd}`,
    ...ice.candidates.slice(0, MAX_ICE_CANDIDATES).map((c) => `candidate ${formatCandidate(c)}`),
  ];
}

/**
 * Reads lines written by {@linkcode formatIceParameters}.
 * @throws {TypeError} naming what is wrong: an unknown or repeated line, too many
 * candidates, a malformed candidate, missing or invalid credentials.
 */
export function parseIceParameters(lines: readonly string[]): RemoteIceParameters {
  let ufrag: string | undefined;
  let pwd: string | undefined;
  const candidates: IceCandidate[] = [];
  for (const line of lines) {
    const space = line.indexOf(" ");
    const [key, value] = space < 0 ? [line, ""] : [line.slice(0, space), line.slice(space + 1)];
    if ((key === "ufrag" && ufrag !== undefined) || (key === "pwd" && pwd !== undefined)) {
      throw new TypeError(`Cannot read ICE parameters: '${key}' appears twice`);
    }
    if (key === "ufrag") ufrag = value;
    else if (key === "pwd") pwd = value;
    else if (key === "candidate") {
      if (candidates.length >= MAX_ICE_CANDIDATES) {
        throw new TypeError(
          `Cannot read ICE parameters: more than ${MAX_ICE_CANDIDATES} candidates`,
        );
      }
      candidates.push(parseCandidate(value));
    } else {
      throw new TypeError(`Cannot read ICE parameters: unknown line '${key.slice(0, 32)}'`);
    }
  }
  if (ufrag === undefined || pwd === undefined) {
    throw new TypeError("Cannot read ICE parameters: no ICE credentials");
  }
  return { credentials: validateCredentials({ ufrag, pwd }), candidates };
}
