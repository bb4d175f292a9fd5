/**
 * The datagrams of birthday punching (sans-IO): 4 bytes of magic, a kind, and
 * a 16-byte token both sides derive from the attempt's join secret, so a
 * packet from anyone who did not see this attempt's signaling is ignored.
 * The token is a MAC of the secret, never the secret: probes cross the
 * network in the clear and the secret admits a QUIC connection to the session.
 * @module
 */

/** Length of the attempt's token. */
export const BIRTHDAY_TOKEN_LENGTH = 16;
/** Length of every birthday datagram. */
export const BIRTHDAY_MESSAGE_LENGTH: number = 4 + 1 + BIRTHDAY_TOKEN_LENGTH;
const MAGIC = [0x74, 0x62, 0x64, 0x31]; // "tbd1": no STUN (first two bits 0) nor QUIC long header

/**
 * `probe`: opens or tests a mapping; `reply`: a probe landed; `chosen`: the
 * probing side takes this pair; `ack`: the spraying side agrees.
 */
export type BirthdayKind = "probe" | "reply" | "chosen" | "ack";
const KINDS: readonly BirthdayKind[] = ["probe", "reply", "chosen", "ack"];

/** Encodes one datagram. @throws {RangeError} on a token of the wrong length. */
export function encodeBirthday(kind: BirthdayKind, token: Uint8Array): Uint8Array {
  if (token.length !== BIRTHDAY_TOKEN_LENGTH) {
    throw new RangeError(`Cannot encode a birthday datagram: the token must be 16 bytes`);
  }
  const data = new Uint8Array(BIRTHDAY_MESSAGE_LENGTH);
  data.set(MAGIC, 0);
  data[4] = KINDS.indexOf(kind);
  data.set(token, 5);
  return data;
}

/** The kind of `data` when it is a birthday datagram carrying `token`; undefined for anything else. */
export function decodeBirthday(data: Uint8Array, token: Uint8Array): BirthdayKind | undefined {
  if (data.length !== BIRTHDAY_MESSAGE_LENGTH) return undefined;
  if (MAGIC.some((byte, i) => data[i] !== byte)) return undefined;
  const kind = KINDS[data[4]];
  if (!kind) return undefined;
  let difference = 0; // constant time: the token is a shared secret
  for (let i = 0; i < BIRTHDAY_TOKEN_LENGTH; i++) difference |= data[5 + i] ^ token[i];
  return difference === 0 ? kind : undefined;
}

/** The attempt's token: HMAC-SHA-256 of a fixed label under the join secret, truncated. */
export async function birthdayToken(secret: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    secret as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("tunnel birthday 1"));
  return new Uint8Array(mac, 0, BIRTHDAY_TOKEN_LENGTH).slice();
}
