// What the in-memory VPN tests send: marked IPv4 packets, and the token their servers take.

/** The token the in-memory test servers accept. */
export const TOKEN = new TextEncoder().encode("iVpnToken12345678");

/** A 28-byte IPv4 packet (an empty UDP datagram's size) from `src` to `dst`, marked in its id field. */
export function packet(src: number[], dst: number[], mark: number): Uint8Array {
  const bytes = new Uint8Array(28);
  bytes.set([0x45, 0, 0, 28, mark >> 8, mark & 0xff, 0, 0, 64, 17]);
  bytes.set(src, 12);
  bytes.set(dst, 16);
  return bytes;
}

/** The mark {@linkcode packet} put in `p`. */
export const markOf = (p: Uint8Array): number => (p[4] << 8) | p[5];
