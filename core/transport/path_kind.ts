/**
 * Kinds of path, registered rather than listed: each says its name, the byte
 * that names it on the wire (a session's PathHello), and whether a third party
 * carries it (a path that is not relayed is preferred). A new kind of path
 * registers itself in its own file with one call.
 * @module
 */

/** A kind's name, e.g. "direct" or "relay". */
export type PathKind = string;

/** What the rest of core knows of a kind of path. */
export interface PathKindInfo {
  /** Its name, shown in path lines and the status view. */
  readonly kind: PathKind;
  /** Its byte in PathHello: stable, never reused for another kind (0-255). */
  readonly wireCode: number;
  /** Carried by a third party (a relay): any live path that is not is preferred. */
  readonly relayed: boolean;
}

const byKind = new Map<PathKind, PathKindInfo>();
const byCode = new Map<number, PathKindInfo>();

/**
 * Registers a kind of path and returns it; registering the same kind again with
 * the same facts returns the first (modules may be loaded twice in tests).
 * @throws {Error} when the name or the wire code is taken by another kind, or the code is not a byte.
 */
export function registerPathKind(info: PathKindInfo): PathKindInfo {
  const known = byKind.get(info.kind);
  if (known && known.wireCode === info.wireCode && known.relayed === info.relayed) return known;
  if (known) throw new Error(`path kind '${info.kind}' is already registered`);
  if (!Number.isInteger(info.wireCode) || info.wireCode < 0 || info.wireCode > 255) {
    throw new Error(`path kind '${info.kind}': wire code ${info.wireCode} is not a byte`);
  }
  const taken = byCode.get(info.wireCode);
  if (taken) throw new Error(`wire code ${info.wireCode} is '${taken.kind}''s`);
  const frozen = Object.freeze({ ...info });
  byKind.set(info.kind, frozen);
  byCode.set(info.wireCode, frozen);
  return frozen;
}

/** The registered kind named `kind`, if any. */
export function pathKindInfo(kind: PathKind): PathKindInfo | undefined {
  return byKind.get(kind);
}

/** The registered kind whose wire code is `code`, if any. */
export function pathKindByWireCode(code: number): PathKindInfo | undefined {
  return byCode.get(code);
}

/** Whether paths of `kind` are carried by a third party (unknown kinds count as relayed). */
export function isRelayedKind(kind: PathKind): boolean {
  return byKind.get(kind)?.relayed ?? true;
}

/** A path straight to the peer's address (given, discovered, or punched through NATs). */
export const DIRECT_PATH: PathKindInfo = registerPathKind({
  kind: "direct",
  wireCode: 0,
  relayed: false,
});

/** A path through a relay server (iroh's relay protocol). */
export const RELAY_PATH: PathKindInfo = registerPathKind({
  kind: "relay",
  wireCode: 1,
  relayed: true,
});
