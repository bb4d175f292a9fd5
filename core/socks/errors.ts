/**
 * What can go wrong on the way through a SOCKS5 proxy, and the proxy's reply
 * codes (RFC 1928 section 6, and Tor's extended codes of `SocksPort ...
 * ExtendedErrors`) as words that say what to do.
 * @module
 */

/** Which step of going through a proxy failed. */
export type Socks5ErrorKind =
  /** The proxy could not be reached over TCP. */
  | "unreachable"
  /** The deadline passed before the proxy finished answering. */
  | "timeout"
  /** The proxy answered something SOCKS5 does not allow. */
  | "protocol"
  /** The proxy wants another authentication method, or rejected the credentials. */
  | "auth"
  /** The proxy answered the CONNECT request with a failure code. */
  | "refused";

/** A failure on the way through a SOCKS5 proxy; the message is one line. */
export class Socks5Error extends Error {
  /** Always "Socks5Error". */
  override name = "Socks5Error";
  /** Which step failed. */
  readonly kind: Socks5ErrorKind;
  /** The proxy's reply code when `kind` is `"refused"`. */
  readonly replyCode: number | undefined;

  /** Creates the error; `message` is one line without a trailing period. */
  constructor(kind: Socks5ErrorKind, message: string, replyCode?: number) {
    super(message);
    this.kind = kind;
    this.replyCode = replyCode;
  }
}

/** Reply code: the CONNECT succeeded. */
export const REPLY_SUCCEEDED = 0x00;

/** What each failure code means and what to do about it. */
const REPLY_WORDS: ReadonlyMap<number, string> = new Map([
  [0x01, "general SOCKS server failure (0x01); see the proxy's log"],
  [0x02, "connection not allowed by ruleset (0x02); the proxy's rules forbid this destination"],
  [0x03, "network unreachable (0x03); the proxy has no route to the destination"],
  [0x04, "host unreachable (0x04); check the address and that the destination is up"],
  [0x05, "connection refused (0x05); nothing listens on that port at the destination"],
  [0x06, "TTL expired (0x06); the destination did not answer in time, try again"],
  [0x07, "command not supported (0x07); the proxy does not do CONNECT"],
  [
    0x08,
    "address type not supported (0x08); the proxy does not take this kind of address " +
    "(a proxy that cannot resolve names refuses them)",
  ],
  // Tor's extended errors (SocksPort flag ExtendedErrors), about .onion destinations.
  [
    0xf0,
    "onion service descriptor not found (0xF0); the .onion address is wrong, or its " +
    "service is not running or not published yet",
  ],
  [0xf1, "onion service descriptor is invalid (0xF1); the service published a broken one"],
  [0xf2, "onion service not reachable: introduction failed (0xF2); try again later"],
  [0xf3, "onion service not reachable: rendezvous failed (0xF3); try again later"],
  [
    0xf4,
    "onion service missing client authorization (0xF4); give Tor this client's key " +
    "(ClientOnionAuthDir)",
  ],
  [
    0xf5,
    "onion service wrong client authorization (0xF5); the service does not admit this " +
    "client's key",
  ],
  [0xf6, "invalid onion address (0xF6); check its spelling: its checksum or key is wrong"],
  [0xf7, "onion service not reachable: introduction timed out (0xF7); try again later"],
]);

/**
 * The words for a failure reply code:
 * `describeReplyCode(4)` is `"host unreachable (0x04); check the address ..."`.
 */
export function describeReplyCode(code: number): string {
  return REPLY_WORDS.get(code) ?? `unknown reply code (${hexByte(code)})`;
}

/** `0x04`, `0xF6`: a byte as the RFCs and Tor's manual write it. */
export function hexByte(byte: number): string {
  return `0x${byte.toString(16).toUpperCase().padStart(2, "0")}`;
}
