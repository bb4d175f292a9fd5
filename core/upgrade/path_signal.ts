/**
 * The bodies of path-offer and path-answer (sans-IO): a session's ICE
 * parameters as text lines, and in the answer the secret the direct
 * connection must present to join the session. They travel inside the
 * session's authenticated QUIC connection, so they are neither signed nor
 * encrypted here; they are parsed strictly all the same (size, counts, syntax).
 * @module
 */
import {
  formatCandidate,
  type IceCandidate,
  parseCandidate,
  type RemoteIceParameters,
  validateCredentials,
} from "../nat/mod.ts";
import { MAX_PATH_SIGNAL } from "../tunnel/mod.ts";

/** Length of the join secret. */
export const JOIN_SECRET_LENGTH = 32;
/** Most candidates a body may carry (host addresses, reflexive ones, per family). */
export const MAX_SIGNAL_CANDIDATES = 32;
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
    `ufrag ${ice.credentials.ufrag}`,
    `pwd ${ice.credentials.pwd}`,
    ...ice.candidates.slice(0, MAX_SIGNAL_CANDIDATES).map((c) => `candidate ${formatCandidate(c)}`),
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
  let secret: Uint8Array | undefined;
  let ufrag: string | undefined;
  let pwd: string | undefined;
  const candidates: IceCandidate[] = [];
  for (const line of lines) {
    const space = line.indexOf(" ");
    const [key, value] = space < 0 ? [line, ""] : [line.slice(0, space), line.slice(space + 1)];
    const once = (seen: unknown) => {
      if (seen !== undefined) throw new PathSignalError(`'${key}' appears twice`);
    };
    switch (key) {
      case "secret":
        once(secret);
        try {
          secret = Uint8Array.fromBase64(value);
        } catch {
          throw new PathSignalError("the secret is not base64");
        }
        if (secret.length !== JOIN_SECRET_LENGTH) {
          throw new PathSignalError(`the secret is not ${JOIN_SECRET_LENGTH} bytes`);
        }
        break;
      case "ufrag":
        once(ufrag);
        ufrag = value;
        break;
      case "pwd":
        once(pwd);
        pwd = value;
        break;
      case "candidate":
        if (candidates.length >= MAX_SIGNAL_CANDIDATES) {
          throw new PathSignalError(`more than ${MAX_SIGNAL_CANDIDATES} candidates`);
        }
        try {
          candidates.push(parseCandidate(value));
        } catch (error) {
          throw new PathSignalError((error as Error).message);
        }
        break;
      default:
        throw new PathSignalError(`unknown line '${key.slice(0, 32)}'`);
    }
  }
  if (ufrag === undefined || pwd === undefined) throw new PathSignalError("no ICE credentials");
  let credentials;
  try {
    credentials = validateCredentials({ ufrag, pwd });
  } catch (error) {
    throw new PathSignalError((error as Error).message);
  }
  return { ice: { credentials, candidates }, ...(secret ? { secret } : {}) };
}
