/**
 * The bodies of path-offer and path-answer (sans-IO): a session's ICE
 * parameters as text lines, and in the answer the secret the direct
 * connection must present to join the session. They travel inside the
 * session's authenticated QUIC connection, so they are neither signed nor
 * encrypted here; they are parsed strictly all the same (size, counts, syntax).
 * @module
 */
import {
  formatIceParameters,
  MAX_ICE_CANDIDATES,
  parseIceParameters,
  type RemoteIceParameters,
} from "../nat/mod.ts";
import { MAX_PATH_SIGNAL } from "../tunnel/mod.ts";

/** Length of the join secret. */
export const JOIN_SECRET_LENGTH = 32;
/** Most candidates a body may carry. */
export const MAX_SIGNAL_CANDIDATES: number = MAX_ICE_CANDIDATES;
const MAGIC = "tunnel-path 1";

/** What the dialing side sends. */
export interface PathOffer {
  /** The dialing side's ICE credentials and candidates. */
  ice: RemoteIceParameters;
}

/** What the accepting side answers: its parameters and the join secret. */
export interface PathAnswer {
  /** The accepting side's ICE credentials and candidates. */
  ice: RemoteIceParameters;
  /** What the direct connection presents to join the session ({@linkcode JOIN_SECRET_LENGTH} bytes). */
  secret: Uint8Array;
}

/** A body that is not a valid offer or answer. */
export class PathSignalError extends Error {
  /** Always "PathSignalError". */
  override name = "PathSignalError";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes an offer. @throws {RangeError} when it exceeds the body limit. */
export function encodePathOffer(offer: PathOffer): Uint8Array {
  return encode(offer.ice, undefined);
}

/** Encodes an answer. @throws {RangeError} when it exceeds the body limit. */
export function encodePathAnswer(answer: PathAnswer): Uint8Array {
  if (answer.secret.length !== JOIN_SECRET_LENGTH) {
    throw new RangeError(
      `Cannot encode a path answer: the secret must be ${JOIN_SECRET_LENGTH} bytes`,
    );
  }
  return encode(answer.ice, answer.secret);
}

/** Decodes an offer. @throws {PathSignalError} naming what is wrong. */
export function decodePathOffer(body: Uint8Array): PathOffer {
  const { ice, secret } = decode(body);
  if (secret) throw new PathSignalError("an offer carries no secret");
  return { ice };
}

/** Decodes an answer. @throws {PathSignalError} naming what is wrong. */
export function decodePathAnswer(body: Uint8Array): PathAnswer {
  const { ice, secret } = decode(body);
  if (!secret) throw new PathSignalError("the answer has no secret");
  return { ice, secret };
}

function encode(ice: RemoteIceParameters, secret: Uint8Array | undefined): Uint8Array {
  const lines = [
    MAGIC,
    ...(secret ? [`secret ${secret.toBase64()}`] : []),
    ...formatIceParameters(ice),
  ];
  const body = encoder.encode(lines.join("\n"));
  if (body.length > MAX_PATH_SIGNAL) {
    throw new RangeError(`Cannot encode path signal: ${body.length} bytes over ${MAX_PATH_SIGNAL}`);
  }
  return body;
}

function decode(body: Uint8Array): { ice: RemoteIceParameters; secret?: Uint8Array } {
  if (body.length > MAX_PATH_SIGNAL) {
    throw new PathSignalError(`the body exceeds ${MAX_PATH_SIGNAL} bytes`);
  }
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new PathSignalError("the body is not UTF-8");
  }
  const [magic, ...lines] = text.split("\n");
  if (magic !== MAGIC) throw new PathSignalError("not a path signal of this version");
  const secrets = lines.filter((line) => line.startsWith("secret "));
  if (secrets.length > 1) throw new PathSignalError("'secret' appears twice");
  let secret: Uint8Array | undefined;
  if (secrets.length === 1) {
    try {
      secret = Uint8Array.fromBase64(secrets[0].slice("secret ".length));
    } catch {
      throw new PathSignalError("the secret is not base64");
    }
    if (secret.length !== JOIN_SECRET_LENGTH) {
      throw new PathSignalError(`the secret is not ${JOIN_SECRET_LENGTH} bytes`);
    }
  }
  try {
    const ice = parseIceParameters(lines.filter((line) => !line.startsWith("secret ")));
    return { ice, ...(secret ? { secret } : {}) };
  } catch (error) {
    throw new PathSignalError((error as Error).message);
  }
}
