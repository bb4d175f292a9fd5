/**
 * A SOCKS5 client (RFC 1928, CONNECT only; no authentication or RFC 1929
 * username/password), socks5h only: a destination's name goes to the proxy
 * unresolved, so a `.onion` name reaches Tor and never the local DNS. The
 * handshake is a sans-IO state machine; `connectThroughSocks5` runs it over a
 * TCP connection within one deadline. `checkTorProxy` tells offline whether a
 * proxy is Tor's SocksPort, and `parseSocks5ProxyUrl` reads `socks5h://HOST:PORT`.
 *
 * ```ts
 * import { parseSocks5ProxyUrl, Socks5ClientHandshake } from "./mod.ts";
 *
 * const proxy = parseSocks5ProxyUrl("socks5h://127.0.0.1:9050");
 * const handshake = new Socks5ClientHandshake({ hostname: "relay.example", port: 80 });
 * const greeting = handshake.start(); // write it to `proxy`, then read handshake.wanted bytes
 * ```
 * @module
 */
export {
  describeReplyCode,
  hexByte,
  REPLY_SUCCEEDED,
  Socks5Error,
  type Socks5ErrorKind,
} from "./errors.ts";
export {
  encodeConnectRequest,
  encodeUsernamePassword,
  type HostPort,
  MAX_SOCKS5_FIELD_BYTES,
  MAX_SOCKS5_REPLY_BYTES,
  Socks5ClientHandshake,
  type Socks5Credentials,
  type Socks5Step,
} from "./handshake.ts";
export { parseSocks5ProxyUrl, type Socks5ProxyUrl } from "./proxy_url.ts";
export {
  connectThroughSocks5,
  type ConnectThroughSocks5Options,
  DEFAULT_SOCKS5_TIMEOUT_MS,
} from "./connect.ts";
export {
  checkTorProxy,
  type CheckTorProxyOptions,
  DEFAULT_TOR_CHECK_TIMEOUT_MS,
  TOR_HTTP_ANSWER,
  type TorProxyCheck,
} from "./tor_check.ts";
