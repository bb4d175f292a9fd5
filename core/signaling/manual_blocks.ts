/**
 * manual mode's offer and answer: what the client and server paste to each other.
 *
 * The offer carries the client's ICE credentials and candidates, the source it
 * asks for, a session id and the *offer secret*. The answer echoes the session
 * id and carries the server's ICE data, its ephemeral EndpointId (the client pins
 * QUIC to it) and the *answer secret*. The client proves on the QUIC connection
 * that it holds both secrets ({@linkcode manualCredential}): someone who saw
 * neither block cannot connect, and someone who saw only the answer lacks the
 * offer secret.
 * @module
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { CandidateType, IceCandidate, IceCredentials } from "../nat/mod.ts";
import { armor, BlockError, dearmor } from "./armor.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";

/** BEGIN/END label of an offer. */
export const OFFER_LABEL = "TUNNEL MANUAL OFFER";
/** BEGIN/END label of an answer. */
export const ANSWER_LABEL = "TUNNEL MANUAL ANSWER";
/** More candidates than this is not a real agent (hosts rarely have over a few). */
const MAX_CANDIDATES = 32;
const SECRET_LENGTH = 32;
const SESSION_ID_LENGTH = 16;
const TYPES: CandidateType[] = ["host", "srflx", "prflx", "relay"];
const KIND_OFFER = 1;
const KIND_ANSWER = 2;

/** The ICE half of a block. */
export interface IceParameters {
  /** The sender's ICE username fragment and password. */
  credentials: IceCredentials;
  /** The sender's candidates (at most 32). */
  candidates: IceCandidate[];
}

/** What the client pastes to the server. */
export interface ManualOffer extends IceParameters {
  /** 16 random bytes the answer echoes, so an answer to another offer is refused. */
  sessionId: Uint8Array;
  /** 32 random bytes; with the answer secret, the client's proof on the QUIC connection. */
  offerSecret: Uint8Array;
  /** The source the client asks for, `tcp://host:port` or `udp://host:port`. */
  source: string;
}

/** What the server pastes back. */
export type ManualAnswer =
  | ({
    accepted: true;
    sessionId: Uint8Array;
    /** The server's ephemeral Ed25519 public key (EndpointId bytes). */
    serverKey: Uint8Array;
    answerSecret: Uint8Array;
  } & IceParameters)
  | { accepted: false; sessionId: Uint8Array; reason: string };

/** Fresh random session id and offer secret for a new offer. */
export function newOfferSecrets(): { sessionId: Uint8Array; offerSecret: Uint8Array } {
  return {
    sessionId: crypto.getRandomValues(new Uint8Array(SESSION_ID_LENGTH)),
    offerSecret: crypto.getRandomValues(new Uint8Array(SECRET_LENGTH)),
  };
}

/** A fresh random answer secret. */
export function newAnswerSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SECRET_LENGTH));
}

/** The credential the client presents on QUIC: HMAC of both secrets and the session. */
export function manualCredential(
  offer: Pick<ManualOffer, "sessionId" | "offerSecret">,
  answerSecret: Uint8Array,
): Uint8Array {
  const message = new Uint8Array([
    ...new TextEncoder().encode("tunnel manual credential v1"),
    ...offer.sessionId,
    ...answerSecret,
  ]);
  return hmac(sha256, offer.offerSecret, message);
}

function writeIce(w: ByteWriter, ice: IceParameters) {
  w.text(ice.credentials.ufrag).text(ice.credentials.pwd);
  if (ice.candidates.length > MAX_CANDIDATES) {
    throw new RangeError(
      `Cannot encode ${ice.candidates.length} candidates (at most ${MAX_CANDIDATES})`,
    );
  }
  w.u8(ice.candidates.length);
  for (const c of ice.candidates) {
    w.u8(TYPES.indexOf(c.type)).ip(c.address).u16(c.port).u32(c.priority).text(c.foundation);
  }
}

function readIce(r: ByteReader, label: string): IceParameters {
  const credentials = { ufrag: r.text(256), pwd: r.text(256) };
  const count = r.u8();
  if (count > MAX_CANDIDATES) {
    throw new BlockError(`The ${label} block is damaged: ${count} candidates`);
  }
  const candidates: IceCandidate[] = [];
  for (let i = 0; i < count; i++) {
    const type = TYPES[r.u8()];
    if (!type) throw new BlockError(`The ${label} block is damaged: unknown candidate type`);
    const address = r.ip();
    const port = r.u16();
    const priority = r.u32();
    const foundation = r.text(32);
    if (port === 0 || foundation === "") {
      throw new BlockError(`The ${label} block is damaged: bad candidate`);
    }
    candidates.push({ foundation, component: 1, transport: "udp", priority, address, port, type });
  }
  return { credentials, candidates };
}

/** Encodes an offer as a pasteable block. */
export function encodeOffer(offer: ManualOffer): Promise<string> {
  const w = new ByteWriter().u8(KIND_OFFER).raw(offer.sessionId).raw(offer.offerSecret);
  writeIce(w, offer);
  w.text(offer.source);
  return armor(OFFER_LABEL, w.finish());
}

/**
 * Reads an offer block from pasted text.
 * @throws {BlockError} naming what is wrong with it.
 */
export async function decodeOffer(text: string): Promise<ManualOffer> {
  const r = new ByteReader(await dearmor(text, OFFER_LABEL), "offer");
  if (r.u8() !== KIND_OFFER) throw new BlockError("The offer block is damaged: not an offer");
  const sessionId = r.raw(SESSION_ID_LENGTH);
  const offerSecret = r.raw(SECRET_LENGTH);
  const ice = readIce(r, "offer");
  const source = r.text(300);
  r.end();
  return { sessionId, offerSecret, ...ice, source };
}

/** Encodes an answer as a pasteable block. */
export function encodeAnswer(answer: ManualAnswer): Promise<string> {
  const w = new ByteWriter().u8(KIND_ANSWER).raw(answer.sessionId).u8(answer.accepted ? 1 : 0);
  if (answer.accepted) {
    w.raw(answer.serverKey).raw(answer.answerSecret);
    writeIce(w, answer);
  } else {
    w.text(answer.reason.slice(0, 500));
  }
  return armor(ANSWER_LABEL, w.finish());
}

/**
 * Reads an answer block and checks it answers `offer`.
 * @throws {BlockError} naming what is wrong, including an answer made for another offer.
 */
export async function decodeAnswer(
  text: string,
  offer: Pick<ManualOffer, "sessionId">,
): Promise<ManualAnswer> {
  const r = new ByteReader(await dearmor(text, ANSWER_LABEL), "answer");
  if (r.u8() !== KIND_ANSWER) throw new BlockError("The answer block is damaged: not an answer");
  const sessionId = r.raw(SESSION_ID_LENGTH);
  if (!sessionId.every((b, i) => b === offer.sessionId[i])) {
    throw new BlockError(
      "This answer was made for another offer; paste the answer to the offer printed above",
    );
  }
  const accepted = r.u8();
  if (accepted > 1) throw new BlockError("The answer block is damaged: bad status");
  if (accepted === 0) {
    const reason = r.text(500);
    r.end();
    return { accepted: false, sessionId, reason };
  }
  const serverKey = r.raw(32);
  const answerSecret = r.raw(SECRET_LENGTH);
  const ice = readIce(r, "answer");
  r.end();
  return { accepted: true, sessionId, serverKey, answerSecret, ...ice };
}
