/**
 * The service a client asks the server to reach: `tcp://host:port` or `udp://host:port`.
 * @module
 */

/** Transport protocol of a source. */
export type SourceProtocol = "tcp" | "udp";

/** A parsed source URL. `host` has no brackets. */
export interface Source {
  /** Which service carries it. */
  protocol: SourceProtocol;
  /** A host name or an IP literal. */
  host: string;
  /** The port, 1 to 65535. */
  port: number;
}

/** Longest source URL accepted (a DNS name is at most 253 characters). */
export const MAX_SOURCE_LENGTH = 300;

/**
 * Parses `tcp://host:port` / `udp://host:port` (IPv6 in brackets).
 * @throws {TypeError} naming the problem and showing the expected form.
 */
export function parseSource(text: string): Source {
  const fail = (why: string) =>
    new TypeError(
      `Invalid source '${
        text.slice(0, MAX_SOURCE_LENGTH)
      }': ${why} (expected tcp://host:port or udp://host:port)`,
    );
  if (text.length > MAX_SOURCE_LENGTH) throw fail("too long");
  const match = /^(tcp|udp):\/\/(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]@]+):([0-9]{1,5})$/.exec(text);
  if (!match) {
    if (!/^(tcp|udp):\/\//.test(text)) throw fail("scheme must be tcp:// or udp://");
    throw fail("must be a host and a port, with nothing after the port");
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw fail("port must be 1 to 65535");
  const host = match[2].startsWith("[") ? match[2].slice(1, -1) : match[2];
  if (!/^[A-Za-z0-9.:_-]+$/.test(host)) throw fail(`'${host}' is not a host name or IP`);
  return { protocol: match[1] as SourceProtocol, host, port };
}

/** Formats a source the way {@linkcode parseSource} reads it. */
export function formatSource(source: Source): string {
  return `${source.protocol}://${formatHostPort(source.host, source.port)}`;
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Parses `host:port` (IPv6 in brackets) for listen and dial addresses.
 * @throws {TypeError} naming what is wrong.
 */
export function parseHostPort(text: string, what = "address"): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):([0-9]{1,5})$/.exec(text.trim());
  if (!match || Number(match[2]) > 65535) {
    throw new TypeError(`Invalid ${what} '${text}': expected host:port, e.g. 127.0.0.1:2222`);
  }
  const host = match[1].startsWith("[") ? match[1].slice(1, -1) : match[1];
  return { host, port: Number(match[2]) };
}
