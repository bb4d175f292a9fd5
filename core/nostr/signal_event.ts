/**
 * nostr mode's signaling messages as Nostr events (sans-IO): kind 24242,
 * tagged with the transfer id and the peer, content encrypted to the peer
 * with NIP-44 (relays are public), signed by the sender's static key. Opening
 * an event checks everything a hostile relay or stranger could get wrong:
 * author, signature, tags, age, size and shape; replays are for
 * {@linkcode ReplayGuard}.
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import * as nip44 from "nostr-tools/nip44";
import { finalizeEvent, verifyEvent } from "nostr-tools/pure";
import type { NostrPublicKey, NostrSecretKey } from "./keys.ts";

/** The event kind nostr mode signals with (the specification's). */
export const SIGNAL_KIND = 24242;
/** Events older (or further ahead) than this are ignored. */
export const MAX_EVENT_AGE_S = 30;
/** Largest content accepted (encrypted): ICE parameters are a few hundred bytes. */
export const MAX_CONTENT_LENGTH = 16_384;

/** A signed Nostr event, as relays carry it (NIP-01). */
export interface NostrEvent {
  /** Hex SHA-256 of the serialized event. */
  id: string;
  /** Author's public key, hex. */
  pubkey: string;
  /** Seconds since the epoch. */
  created_at: number;
  /** Event kind. */
  kind: number;
  /** Tags, each a list of strings. */
  tags: string[][];
  /** Content (here: NIP-44 ciphertext). */
  content: string;
  /** Schnorr signature over the id, hex. */
  sig: string;
}

/** What the peers say to each other, once decrypted. */
export type SignalMessage =
  /** Client: "I want a session for this source". */
  | { type: "request"; session: string; source: string }
  /** Server: its ICE parameters and the key its QUIC endpoint presents. */
  | { type: "offer"; session: string; ice: string; serverId: string }
  /** Client: its ICE parameters. */
  | { type: "answer"; session: string; ice: string }
  /** Server: no session (limit, source refused), and why. */
  | { type: "refused"; session: string; reason: string };

/** Why an event was not taken, for debug lines. */
export type IgnoredReason =
  | "not ours"
  | "another author"
  | "bad signature"
  | "stale"
  | "too large"
  | "undecryptable"
  | "malformed";

/** Hex of SHA-256 over the two public keys in sorted order: both peers compute the same. */
export function transferId(a: NostrPublicKey, b: NostrPublicKey): string {
  const [first, second] = [a.hex, b.hex].sort();
  const digest = sha256(new TextEncoder().encode(first + second));
  return Array.from(digest, (x) => x.toString(16).padStart(2, "0")).join("");
}

const SESSION = /^[0-9a-f]{32}$/;

/** A fresh session id (16 random bytes, hex). */
export function newSessionId(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (x) => x.toString(16).padStart(2, "0"),
  ).join("");
}

/** Encrypts, tags and signs `message` for `peer`. */
export function sealSignal(
  secret: NostrSecretKey,
  peer: NostrPublicKey,
  message: SignalMessage,
  nowMs: number = Date.now(),
): NostrEvent {
  const key = nip44.v2.utils.getConversationKey(secret.bytes, peer.hex);
  return finalizeEvent({
    kind: SIGNAL_KIND,
    created_at: Math.floor(nowMs / 1000),
    tags: [["p", peer.hex], ["t", transferId(secret.publicKey, peer)]],
    content: nip44.v2.encrypt(JSON.stringify({ v: 1, ...message }), key),
  }, secret.bytes) as NostrEvent;
}

/**
 * Opens an event sent to us by `peer`; the message, or why it is ignored.
 * Never throws, whatever the event holds.
 */
export function openSignal(
  secret: NostrSecretKey,
  peer: NostrPublicKey,
  event: NostrEvent,
  nowMs: number = Date.now(),
): SignalMessage | { ignored: IgnoredReason } {
  try {
    if (event.kind !== SIGNAL_KIND || !Array.isArray(event.tags)) return { ignored: "not ours" };
    const tag = (name: string) => event.tags.find((t) => Array.isArray(t) && t[0] === name)?.[1];
    if (tag("p") !== secret.publicKey.hex || tag("t") !== transferId(secret.publicKey, peer)) {
      return { ignored: "not ours" };
    }
    if (event.pubkey !== peer.hex) return { ignored: "another author" };
    if (typeof event.content !== "string" || event.content.length > MAX_CONTENT_LENGTH) {
      return { ignored: "too large" };
    }
    if (Math.abs(nowMs / 1000 - event.created_at) > MAX_EVENT_AGE_S) return { ignored: "stale" };
    if (!verifyEvent(structuredClone(event))) return { ignored: "bad signature" };
    let text: string;
    try {
      text = nip44.v2.decrypt(
        event.content,
        nip44.v2.utils.getConversationKey(secret.bytes, peer.hex),
      );
    } catch {
      return { ignored: "undecryptable" };
    }
    return parseMessage(text) ?? { ignored: "malformed" };
  } catch {
    return { ignored: "malformed" };
  }
}

function parseMessage(text: string): SignalMessage | undefined {
  const value = JSON.parse(text);
  if (typeof value !== "object" || value === null || value.v !== 1) return undefined;
  const str = (field: unknown, max: number) =>
    typeof field === "string" && field.length <= max ? field : undefined;
  const session = str(value.session, 32);
  if (!session || !SESSION.test(session)) return undefined;
  switch (value.type) {
    case "request": {
      const source = str(value.source, 300);
      return source === undefined ? undefined : { type: "request", session, source };
    }
    case "offer": {
      const ice = str(value.ice, 8_192);
      const serverId = str(value.serverId, 64);
      return ice === undefined || serverId === undefined
        ? undefined
        : { type: "offer", session, ice, serverId };
    }
    case "answer": {
      const ice = str(value.ice, 8_192);
      return ice === undefined ? undefined : { type: "answer", session, ice };
    }
    case "refused": {
      const reason = str(value.reason, 1_024);
      return reason === undefined ? undefined : { type: "refused", session, reason };
    }
  }
  return undefined;
}

/**
 * Remembers which messages were taken, so a relay (or anyone) replaying an
 * event gets nothing: each (session, type) is taken once while it is remembered
 * (past {@linkcode MAX_EVENT_AGE_S}, openSignal refuses it as stale anyway).
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #max: number;

  /**
   * Starts empty.
   * @param max most entries remembered (the oldest go first)
   */
  constructor(max = 4_096) {
    this.#max = max;
  }

  /** True the first time `message` is seen, false for a replay. */
  firstTime(message: SignalMessage, nowMs: number = Date.now()): boolean {
    const key = `${message.session}:${message.type}`;
    for (const [entry, at] of this.#seen) {
      if (nowMs - at <= 2 * MAX_EVENT_AGE_S * 1000 && this.#seen.size < this.#max) break;
      this.#seen.delete(entry);
    }
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, nowMs);
    return true;
  }
}
