/**
 * Node ids and XOR distance (BEP 5): 160-bit numbers, closer when their XOR is
 * smaller.
 * @module
 */

/** Bytes in a node id. */
export const NODE_ID_BYTES = 20;

/** The id as a 160-bit unsigned integer. */
export function idToBigInt(id: Uint8Array): bigint {
  let value = 0n;
  for (const byte of id) value = (value << 8n) | BigInt(byte);
  return value;
}

/** A 160-bit unsigned integer as a 20-byte id. */
export function bigIntToId(value: bigint): Uint8Array {
  const id = new Uint8Array(NODE_ID_BYTES);
  for (let i = NODE_ID_BYTES - 1; i >= 0; i--) {
    id[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return id;
}

/** XOR distance between two ids. */
export function distance(a: Uint8Array, b: Uint8Array): bigint {
  return idToBigInt(a) ^ idToBigInt(b);
}

/** Whether two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lowercase hex, for map keys and log lines. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
