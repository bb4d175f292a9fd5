/**
 * Checks a network interface name before it reaches the kernel, so a bad
 * `--tun-name` fails with its own message instead of an errno.
 * @module
 */

/** Longest interface name Linux accepts (IFNAMSIZ 16, less the terminating NUL). */
export const MAX_INTERFACE_NAME = 15;

/**
 * Throws unless `name` is a usable Linux interface name or name template
 * (`tun%d`: the kernel puts the first free number in place of `%d`).
 *
 * @throws {TypeError} naming the name and the rule it breaks.
 * @example
 * ```ts
 * checkInterfaceName("tun-vpn%d"); // fine
 * checkInterfaceName("a/b"); // throws
 * ```
 */
export function checkInterfaceName(name: string): void {
  const fail = (why: string) => new TypeError(`Invalid interface name '${name}': ${why}`);
  if (name.length === 0) throw fail("empty");
  if (new TextEncoder().encode(name).length > MAX_INTERFACE_NAME) {
    throw fail(`longer than ${MAX_INTERFACE_NAME} bytes`);
  }
  if (name === "." || name === "..") throw fail("reserved");
  if (!/^[A-Za-z0-9_.%-]+$/.test(name)) throw fail("use letters, digits, '-', '_', '.'");
  const percents = name.match(/%/g)?.length ?? 0;
  if (percents > 1 || (percents === 1 && !name.includes("%d"))) {
    throw fail("'%' is only allowed once, as the number template '%d'");
  }
}
