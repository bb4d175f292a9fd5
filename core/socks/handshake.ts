/**
 * A SOCKS5 client's side of the handshake (RFC 1928, CONNECT only; RFC 1929
 * username/password), sans-IO: it says what to send and exactly how many bytes
 * it needs next, so the I/O never reads past the proxy's last reply and the
 * connection is handed on with nothing of the destination's stream taken.
 *
 * A domain name is sent as a name (address type 3) for the proxy to resolve:
 * nothing is resolved here (socks5h), which a `.onion` name needs.
 * @module
 */
import { formatIp, parseIp } from "../net/mod.ts";
import { describeReplyCode, hexByte, REPLY_SUCCEEDED, Socks5Error } from "./errors.ts";

const VERSION = 0x05;
const AUTH_VERSION = 0x01;
const METHOD_NO_AUTH = 0x00;
const METHOD_USERNAME_PASSWORD = 0x02;
const METHOD_NONE_ACCEPTABLE = 0xff;
const COMMAND_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** Longest domain name, username or password the protocol can carry (one length byte). */
export const MAX_SOCKS5_FIELD_BYTES = 255;
/** Longest reply to a CONNECT: 4 bytes, a 1-byte length and a 255-byte name, a port. */
export const MAX_SOCKS5_REPLY_BYTES: number = 4 + 1 + 255 + 2;

/** A host and port: a destination, a proxy, or the address a proxy bound. */
export interface HostPort {
  /** A domain name, or an IPv4 or IPv6 literal (IPv6 with or without brackets). */
  hostname: string;
  /** 1-65535 (0 only in a bound address a proxy reports). */
  port: number;
}

/** Username and password for RFC 1929 (Tor isolates streams by them). */
export interface Socks5Credentials {
  /** 1-255 bytes of UTF-8. */
  username: string;
  /** 1-255 bytes of UTF-8. */
  password: string;
}

/** What {@linkcode Socks5ClientHandshake.receive} asks of the caller next. */
export type Socks5Step =
  /** Read more: {@linkcode Socks5ClientHandshake.wanted} bytes. */
  | { kind: "read" }
  /** Write these bytes, then read {@linkcode Socks5ClientHandshake.wanted} bytes. */
  | { kind: "write"; bytes: Uint8Array }
  /** The proxy connected; the stream is the destination's from the next byte on. */
  | { kind: "connected"; bound: HostPort };

type Stage = "new" | "method" | "auth" | "reply-head" | "reply-address" | "reply-rest" | "done";

/**
 * One CONNECT through a SOCKS5 proxy, as a state machine: `start()` gives the
 * greeting to send, then each `receive` takes at most `wanted` bytes.
 *
 * ```ts
 * import { Socks5ClientHandshake } from "./mod.ts";
 * const handshake = new Socks5ClientHandshake({ hostname: "example.onion", port: 80 });
 * handshake.start(); // [5, 1, 0]: version 5, one method, no authentication
 * handshake.receive(Uint8Array.of(5, 0)); // { kind: "write", bytes: the CONNECT request }
 * ```
 */
export class Socks5ClientHandshake {
  readonly #request: Uint8Array;
  readonly #auth: Uint8Array | undefined;
  readonly #method: number;
  #stage: Stage = "new";
  readonly #buffer = new Uint8Array(MAX_SOCKS5_REPLY_BYTES);
  #filled = 0;
  /** Bytes the current stage needs in all (the buffer holds `#filled` of them). */
  #need = 0;

  /**
   * Checks the destination and credentials and prepares the messages.
   * @throws {TypeError} naming the problem: a hostname that is not a domain name
   * or IP literal, a port outside 1-65535, an empty or too long username or password.
   */
  constructor(target: HostPort, credentials?: Socks5Credentials) {
    this.#request = encodeConnectRequest(target);
    if (credentials) {
      this.#auth = encodeUsernamePassword(credentials);
      this.#method = METHOD_USERNAME_PASSWORD;
    } else {
      this.#method = METHOD_NO_AUTH;
    }
  }

  /** Bytes needed before the handshake can move on; never more than the proxy owes. */
  get wanted(): number {
    return this.#need - this.#filled;
  }

  /** Whether the CONNECT request is out and its reply awaited (the proxy builds the way). */
  get connecting(): boolean {
    return this.#stage.startsWith("reply-");
  }

  /** Whether the proxy has connected. */
  get done(): boolean {
    return this.#stage === "done";
  }

  /**
   * The greeting: version 5 and the one method offered (username/password when
   * credentials were given, so a proxy cannot skip them; else no authentication).
   */
  start(): Uint8Array {
    if (this.#stage !== "new") throw new Error("the SOCKS5 handshake has started already");
    this.#expect("method", 2);
    return Uint8Array.of(VERSION, 1, this.#method);
  }

  /**
   * Takes bytes the proxy sent (at most {@linkcode wanted}).
   * @throws {Socks5Error} when the proxy answers outside the protocol, refuses
   * the credentials or the CONNECT.
   * @throws {RangeError} when given more bytes than wanted, or after the end.
   */
  receive(bytes: Uint8Array): Socks5Step {
    if (this.#stage === "new" || this.#stage === "done") {
      throw new RangeError(`the SOCKS5 handshake expects no bytes now (${this.#stage})`);
    }
    if (bytes.length > this.wanted) {
      throw new RangeError(`the SOCKS5 handshake wanted ${this.wanted} bytes, got ${bytes.length}`);
    }
    this.#buffer.set(bytes, this.#filled);
    this.#filled += bytes.length;
    if (this.#filled < this.#need) return { kind: "read" };
    const got = this.#buffer.subarray(0, this.#need);
    switch (this.#stage) {
      case "method":
        return this.#onMethod(got);
      case "auth":
        return this.#onAuth(got);
      case "reply-head":
        return this.#onReplyHead(got);
      case "reply-address":
        return this.#onReplyAddress(got);
      case "reply-rest":
        return this.#onReplyRest(got);
    }
  }

  #onMethod([version, method]: Uint8Array): Socks5Step {
    if (version !== VERSION) {
      throw new Socks5Error(
        "protocol",
        `the proxy does not speak SOCKS5: it answered the greeting with ${hexByte(version)} ` +
          `${hexByte(method)}`,
      );
    }
    const offered = this.#method === METHOD_NO_AUTH ? "no authentication" : "username/password";
    if (method === METHOD_NONE_ACCEPTABLE) {
      throw new Socks5Error(
        "auth",
        `the proxy accepts none of the offered authentication methods (${offered})`,
      );
    }
    if (method !== this.#method) {
      throw new Socks5Error(
        "protocol",
        `the proxy chose authentication method ${hexByte(method)}, which was not offered ` +
          `(${offered})`,
      );
    }
    if (this.#auth) {
      this.#expect("auth", 2);
      return { kind: "write", bytes: this.#auth };
    }
    return this.#sendRequest();
  }

  #onAuth([version, status]: Uint8Array): Socks5Step {
    if (version !== AUTH_VERSION) {
      throw new Socks5Error(
        "protocol",
        `the proxy answered the username/password with version ${hexByte(version)} (not 0x01)`,
      );
    }
    if (status !== 0) {
      throw new Socks5Error(
        "auth",
        `the proxy rejected the username and password (status ${hexByte(status)})`,
      );
    }
    return this.#sendRequest();
  }

  #sendRequest(): Socks5Step {
    // The version and the reply code first: a proxy that refuses may close after them.
    this.#expect("reply-head", 2);
    return { kind: "write", bytes: this.#request };
  }

  #onReplyHead([version, code]: Uint8Array): Socks5Step {
    if (version !== VERSION) {
      throw new Socks5Error(
        "protocol",
        `the proxy answered the CONNECT with version ${hexByte(version)} (not 0x05)`,
      );
    }
    if (code !== REPLY_SUCCEEDED) {
      throw new Socks5Error("refused", `the proxy refused: ${describeReplyCode(code)}`, code);
    }
    // RSV, ATYP and the address's first byte (a name's length).
    this.#need = 5;
    this.#stage = "reply-address";
    return { kind: "read" };
  }

  #onReplyAddress(head: Uint8Array): Socks5Step {
    const [, , reserved, type, first] = head;
    if (reserved !== 0) {
      throw new Socks5Error(
        "protocol",
        `the proxy's reply has ${hexByte(reserved)} in its reserved byte (not 0x00)`,
      );
    }
    let addressBytes: number;
    if (type === ATYP_IPV4) addressBytes = 4;
    else if (type === ATYP_IPV6) addressBytes = 16;
    else if (type === ATYP_DOMAIN) {
      if (first === 0) throw new Socks5Error("protocol", "the proxy's reply names an empty host");
      addressBytes = 1 + first;
    } else {
      throw new Socks5Error(
        "protocol",
        `the proxy's reply has address type ${hexByte(type)} (not 0x01, 0x03 or 0x04)`,
      );
    }
    // Four bytes of head, the address (whose first byte is read already), the port.
    this.#need = 4 + addressBytes + 2;
    this.#stage = "reply-rest";
    return { kind: "read" };
  }

  #onReplyRest(reply: Uint8Array): Socks5Step {
    const type = reply[3];
    const address = reply.subarray(4, reply.length - 2);
    const port = (reply[reply.length - 2] << 8) | reply[reply.length - 1];
    let hostname: string;
    if (type === ATYP_DOMAIN) {
      hostname = new TextDecoder().decode(address.subarray(1));
      if (!isHostName(hostname)) {
        throw new Socks5Error("protocol", "the proxy's reply names a host that is not a name");
      }
    } else {
      hostname = formatIp(address.slice());
    }
    this.#stage = "done";
    this.#need = this.#filled = 0;
    return { kind: "connected", bound: { hostname, port } };
  }

  #expect(stage: Stage, bytes: number): void {
    this.#stage = stage;
    this.#need = bytes;
    this.#filled = 0;
  }
}

/**
 * The CONNECT request for `target`: an IP literal as its bytes, anything else
 * as a name for the proxy to resolve.
 * @throws {TypeError} for a hostname that is neither, or a port outside 1-65535.
 */
export function encodeConnectRequest(target: HostPort): Uint8Array {
  const { port } = target;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`Invalid destination port ${port}: use 1-65535`);
  }
  // Brackets only around an IPv6 literal (as URLs write it): "[name]" is no name.
  const bracketed = /^\[(.*)\]$/.exec(target.hostname)?.[1];
  const hostname = bracketed ?? target.hostname;
  const ip = parseIp(hostname);
  if (bracketed !== undefined && !ip) {
    throw new TypeError(
      `Invalid destination host '${printable(target.hostname)}': not an IP address`,
    );
  }
  let address: Uint8Array;
  if (ip) {
    address = new Uint8Array(1 + ip.length);
    address[0] = ip.length === 4 ? ATYP_IPV4 : ATYP_IPV6;
    address.set(ip, 1);
  } else {
    const name = new TextEncoder().encode(hostname);
    if (!isHostName(hostname) || name.length > MAX_SOCKS5_FIELD_BYTES) {
      throw new TypeError(
        `Invalid destination host '${printable(hostname)}': not an IP address or a host name ` +
          `(letters, digits, '-', '_', '.'; at most ${MAX_SOCKS5_FIELD_BYTES} bytes)`,
      );
    }
    address = new Uint8Array(2 + name.length);
    address[0] = ATYP_DOMAIN;
    address[1] = name.length;
    address.set(name, 2);
  }
  const request = new Uint8Array(3 + address.length + 2);
  request.set([VERSION, COMMAND_CONNECT, 0]);
  request.set(address, 3);
  request[request.length - 2] = port >> 8;
  request[request.length - 1] = port & 0xff;
  return request;
}

/**
 * RFC 1929's request: version 1, the username and the password, each behind
 * its length.
 * @throws {TypeError} when either is empty or longer than 255 bytes.
 */
export function encodeUsernamePassword(credentials: Socks5Credentials): Uint8Array {
  const username = new TextEncoder().encode(credentials.username);
  const password = new TextEncoder().encode(credentials.password);
  for (const [what, bytes] of [["username", username], ["password", password]] as const) {
    if (bytes.length < 1 || bytes.length > MAX_SOCKS5_FIELD_BYTES) {
      throw new TypeError(
        `Invalid SOCKS5 ${what}: it must be 1-${MAX_SOCKS5_FIELD_BYTES} bytes (it is ` +
          `${bytes.length})`,
      );
    }
  }
  const message = new Uint8Array(3 + username.length + password.length);
  message[0] = AUTH_VERSION;
  message[1] = username.length;
  message.set(username, 2);
  message[2 + username.length] = password.length;
  message.set(password, 3 + username.length);
  return message;
}

/** A DNS name as hosts write them (`.onion` names too): no spaces, controls or punctuation. */
function isHostName(text: string): boolean {
  return /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(text);
}

/** `text` with anything outside printable ASCII shown as `?`, for one line of error. */
function printable(text: string): string {
  return [...text.slice(0, 100)].map((c) => (c >= " " && c <= "~" ? c : "?")).join("");
}
