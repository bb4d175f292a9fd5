/**
 * Distinct source addresses on the loopback network 127.0.0.0/8, which Linux
 * routes to `lo` whole: a client socket bound to `127.x.y.z` reaches a server
 * on 127.0.0.1 and the server sees `127.x.y.z`. The relay counts writes and
 * queries per source address, so the load generator spreads its sources over
 * these to measure what the relay does in aggregate.
 * @module
 */

/** Sources available: 127.1.0.1 up, skipping each /24's .0 and .255 (to stay clear of 127.0.0.0/16). */
export const MAX_LOOPBACK_SOURCES = 254 * 256 * 254;

/**
 * The `index`-th source address: 127.1.0.1, 127.1.0.2, ... 127.1.0.254, 127.1.1.1, ...
 * @throws {RangeError} for an index outside 0..{@linkcode MAX_LOOPBACK_SOURCES}-1.
 * @example
 * ```ts
 * loopbackSource(0); // "127.1.0.1"
 * loopbackSource(254); // "127.1.1.1"
 * ```
 */
export function loopbackSource(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_LOOPBACK_SOURCES) {
    throw new RangeError(
      `Cannot pick loopback source ${index}: not in 0..${MAX_LOOPBACK_SOURCES - 1}`,
    );
  }
  const host = index % 254 + 1;
  const subnet = Math.floor(index / 254);
  return `127.${1 + Math.floor(subnet / 256)}.${subnet % 256}.${host}`;
}
