/**
 * Linux's `struct ifreq` as `TUNSETIFF` reads and writes it: the interface
 * name, then the flags. Pure encoding, so it is tested without a kernel.
 * @module
 */
import { checkInterfaceName } from "../host/mod.ts";

/** `_IOW('T', 202, int)`: attaches the descriptor to a new (or named) TUN/TAP interface. */
export const TUNSETIFF = 0x400454ca;
/** A layer-3 device: IP packets, no Ethernet header. */
export const IFF_TUN = 0x0001;
/** No 4-byte packet-information prefix: each read and write is one bare IP packet. */
export const IFF_NO_PI = 0x1000;
/** `sizeof(struct ifreq)` on 64-bit Linux: a 16-byte name and a 24-byte union. */
export const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

/**
 * The bytes of an `ifreq` asking for interface `name` (or a `%d` template) with `flags`.
 *
 * @throws {TypeError} for a name the kernel would refuse.
 * @example
 * ```ts
 * const ifr = encodeIfreq("tun%d", IFF_TUN | IFF_NO_PI);
 * ifr.length; // 40
 * ```
 */
export function encodeIfreq(name: string, flags: number): Uint8Array {
  checkInterfaceName(name);
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(new TextEncoder().encode(name));
  new DataView(ifr.buffer).setUint16(IFNAMSIZ, flags, true);
  return ifr;
}

/**
 * The interface name in an `ifreq` (the kernel writes back the name it chose).
 *
 * @throws {RangeError} when `ifr` is too short or its name is not terminated.
 * @example
 * ```ts
 * decodeIfreqName(encodeIfreq("tun0", IFF_TUN)); // "tun0"
 * ```
 */
export function decodeIfreqName(ifr: Uint8Array): string {
  if (ifr.length < IFNAMSIZ) throw new RangeError(`Cannot read ifreq: ${ifr.length} bytes`);
  const end = ifr.subarray(0, IFNAMSIZ).indexOf(0);
  if (end <= 0) throw new RangeError("Cannot read ifreq: name empty or not terminated");
  return new TextDecoder().decode(ifr.subarray(0, end));
}
