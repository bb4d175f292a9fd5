/**
 * A SOCKS5 proxy as a URL: `socks5h://HOST:PORT`, optionally with
 * `USER:PASSWORD@` (Tor keeps streams with different credentials on different
 * circuits). `socks5://` is refused: it means the client resolves names itself,
 * which would hand a `.onion` name to the local DNS (a leak, and no DNS can
 * resolve it).
 * @module
 */
import type { HostPort, Socks5Credentials } from "./handshake.ts";

/** A proxy read from a `socks5h://` URL. */
export interface Socks5ProxyUrl extends HostPort {
  /** From the URL's `USER:PASSWORD@`, percent-decoded. */
  credentials?: Socks5Credentials;
}

/**
 * Reads `socks5h://HOST:PORT` (HOST a name, an IPv4 literal or a bracketed
 * IPv6 literal; the port required).
 * @throws {TypeError} one line naming the problem; a password in the URL is
 * never repeated in it.
 * @example
 * ```ts
 * import { parseSocks5ProxyUrl } from "./mod.ts";
 * parseSocks5ProxyUrl("socks5h://127.0.0.1:9050"); // { hostname: "127.0.0.1", port: 9050 }
 * ```
 */
export function parseSocks5ProxyUrl(text: string): Socks5ProxyUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(
      `Invalid SOCKS5 proxy '${shown(text)}': not a URL (use socks5h://HOST:PORT)`,
    );
  }
  const fail = (why: string) => new TypeError(`Invalid SOCKS5 proxy '${shown(text)}': ${why}`);
  if (url.protocol === "socks5:") {
    throw fail(
      "use socks5h://, so the proxy resolves names: with socks5:// they would be resolved " +
        "locally, which leaks a .onion name to the local DNS and cannot resolve it",
    );
  }
  if (url.protocol !== "socks5h:") throw fail("use socks5h://HOST:PORT");
  if (url.hostname === "") throw fail("no host (use socks5h://HOST:PORT)");
  if (url.port === "") throw fail("no port (use socks5h://HOST:PORT, e.g. Tor's 9050)");
  const port = Number(url.port);
  if (port < 1) throw fail("port 0 (use 1-65535)");
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    throw fail("a proxy URL has no path, query or fragment (use socks5h://HOST:PORT)");
  }
  const proxy: Socks5ProxyUrl = { hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"), port };
  if (url.username !== "" || url.password !== "") {
    const decode = (part: string, what: string) => {
      try {
        return decodeURIComponent(part);
      } catch {
        throw fail(`the ${what} is not valid percent-encoding`);
      }
    };
    proxy.credentials = {
      username: decode(url.username, "username"),
      password: decode(url.password, "password"),
    };
    const bytes = (s: string) => new TextEncoder().encode(s).length;
    for (const [what, value] of Object.entries(proxy.credentials)) {
      if (bytes(value) < 1 || bytes(value) > 255) {
        throw fail(`the ${what} must be 1-255 bytes (USER:PASSWORD@, both given)`);
      }
    }
  }
  return proxy;
}

/** The URL as an error may print it: a password masked, one line, bounded. */
function shown(text: string): string {
  const masked = text.replace(/^([a-z0-9+.-]+:\/\/[^:@/]*:)[^@/]*@/i, "$1***@");
  return [...masked.slice(0, 200)].map((c) => (c >= " " && c <= "~" ? c : "?")).join("");
}
