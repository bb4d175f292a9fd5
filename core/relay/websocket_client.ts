/**
 * A WebSocket client (RFC 6455) on a TCP connection with Nagle's algorithm off.
 * Deno's built-in WebSocket offers no TCP_NODELAY, and a relay carries small
 * QUIC packets back to back: with Nagle on, the second of two waited for the
 * peer's delayed ACK (~25 ms a round trip, measured through the relay).
 * @module
 */
import {
  clientFrameLength,
  concatBytes,
  FrameParser,
  Opcode,
  WebSocketProtocolError,
  writeClientFrame,
} from "./_websocket_frames.ts";

/** Largest response head accepted during the upgrade. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Bytes asked of the socket per read: a relay's batch frames are up to 64 KiB. */
const READ_BYTES = 64 * 1024;
/**
 * Frames are written into a send buffer of this size to start with; it grows
 * while a write is in flight, and one buffer up to {@linkcode MAX_SPARE_BYTES}
 * is kept for reuse, so a busy connection allocates nothing per frame.
 */
const SEND_BUFFER_BYTES = 64 * 1024;
const MAX_SPARE_BYTES = 1024 * 1024;
/** Masks are drawn from the CSPRNG this many at a time (4 bytes each). */
const MASKS_PER_DRAW = 256;
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * Opens the TCP connection under a WebSocket: `Deno.connect` unless told, or a
 * way through a proxy (which is handed the hostname unresolved). TLS for
 * `wss://` runs over what it returns.
 */
export type WebSocketDial = (hostname: string, port: number) => Promise<Deno.TcpConn>;

/** Options of {@linkcode connectWebSocket}. */
export interface WebSocketOptions {
  /** Opens the TCP connection. Default: `Deno.connect` to the URL's host. */
  dial?: WebSocketDial;
  /** Subprotocols offered, most preferred first. */
  protocols: string[];
  /**
   * More request headers for the upgrade (`Authorization`). Never part of an
   * error message: they may hold credentials.
   */
  headers?: Record<string, string>;
  /** Largest message accepted from the server. */
  maxMessage: number;
  /** Each binary message (a fresh buffer the caller may keep). */
  onMessage(message: Uint8Array): void;
  /** Once, when the connection has ended for any reason. */
  onClose(reason: string): void;
}

/** The server answered the upgrade with an HTTP status other than 101. */
export class WebSocketUpgradeError extends Error {
  /** Always "WebSocketUpgradeError". */
  override name = "WebSocketUpgradeError";
  /** The status code the server answered with (401 when it wants credentials). */
  readonly status: number;
  /** The status line without the HTTP version: `401 Unauthorized`. */
  readonly statusText: string;

  /** Creates the error for the server's status line `statusLine`. */
  constructor(status: number, statusLine: string) {
    super(`the server answered '${statusLine}'`);
    this.status = status;
    this.statusText = statusLine.replace(/^HTTP\/\S+\s*/, "");
  }
}

/** An open WebSocket connection. */
export interface WebSocketConnection {
  /** The subprotocol the server chose. */
  readonly protocol: string;
  /** Bytes handed to `send` and not yet written to the socket. */
  readonly bufferedAmount: number;
  /**
   * Starts delivering messages to `onMessage` (once). Separate from opening so
   * the caller holds the connection before the first message asks for a reply.
   */
  start(): void;
  /** Sends one binary message. */
  send(message: Uint8Array): void;
  /** Ends the connection (a close frame, then the socket). */
  close(): void;
}

/**
 * Opens a WebSocket to a `ws://` or `wss://` URL, over the TCP connection
 * `options.dial` opens (TLS for `wss://` checks the URL's hostname over it).
 * @throws {Error} naming the URL when the connection or the upgrade fails; its
 * `cause` is a {@linkcode WebSocketUpgradeError} when the server answered with
 * another HTTP status.
 * @throws {TypeError} when a header name or value could end the header line.
 */
export async function connectWebSocket(
  url: string,
  options: WebSocketOptions,
): Promise<WebSocketConnection> {
  const target = new URL(url);
  const extra = Object.entries(options.headers ?? {}).map(([name, value]) => {
    // A CR or LF would let a value write more headers (or a body) into the request.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw new TypeError(`Cannot send the header '${name}': not a valid header line`);
    }
    return `${name}: ${value}`;
  });
  const secure = target.protocol === "wss:";
  const port = Number(target.port) || (secure ? 443 : 80);
  const hostname = target.hostname.replace(/^\[|\]$/g, "");
  let conn: Deno.Conn;
  const tcp = await (options.dial ?? connectDirectly)(hostname, port);
  tcp.setNoDelay(true);
  try {
    conn = secure ? await Deno.startTls(tcp, { hostname }) : tcp;
  } catch (error) {
    tcp.close();
    throw error;
  }
  try {
    const key = encodeBase64(crypto.getRandomValues(new Uint8Array(16)));
    const request = [
      `GET ${target.pathname}${target.search} HTTP/1.1`,
      `Host: ${target.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Protocol: ${options.protocols.join(", ")}`,
      ...extra,
      "",
      "",
    ].join("\r\n");
    await writeAll(conn, new TextEncoder().encode(request));
    const { head, rest } = await readHead(conn);
    const [status, ...lines] = head.split("\r\n");
    if (!/^HTTP\/1\.1 101\b/.test(status)) {
      throw new WebSocketUpgradeError(Number(/^HTTP\/\d\.\d (\d{3})\b/.exec(status)?.[1]), status);
    }
    const headers = new Map(
      lines.map((line) => {
        const i = line.indexOf(":");
        return [line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()] as const;
      }),
    );
    const expected = encodeBase64(
      new Uint8Array(
        await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + ACCEPT_GUID)),
      ),
    );
    if (headers.get("sec-websocket-accept") !== expected) {
      throw new Error("the server's Sec-WebSocket-Accept does not match");
    }
    const protocol = headers.get("sec-websocket-protocol") ?? "";
    if (!options.protocols.includes(protocol)) {
      throw new Error(`the server chose no offered subprotocol ('${protocol}')`);
    }
    return new Connection(conn, protocol, options, rest);
  } catch (error) {
    conn.close();
    throw new Error(`Cannot open a WebSocket to ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function connectDirectly(hostname: string, port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname, port });
}

class Connection implements WebSocketConnection {
  readonly protocol: string;
  readonly #conn: Deno.Conn;
  readonly #options: WebSocketOptions;
  /** Frames not yet handed to the socket, back to back. */
  #out: Uint8Array<ArrayBuffer> = new Uint8Array(SEND_BUFFER_BYTES);
  #outLength = 0;
  /** A written buffer, kept for the next swap. */
  #spare: Uint8Array<ArrayBuffer> | undefined;
  readonly #masks = new Uint8Array(4 * MASKS_PER_DRAW);
  #maskOffset = this.#masks.length;
  #buffered = 0;
  #writing = false;
  #closed = false;
  #early: Uint8Array | undefined;

  constructor(conn: Deno.Conn, protocol: string, options: WebSocketOptions, early: Uint8Array) {
    this.#conn = conn;
    this.protocol = protocol;
    this.#options = options;
    this.#early = early;
  }

  start(): void {
    const early = this.#early;
    if (!early) return;
    this.#early = undefined;
    this.#read(early);
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  send(message: Uint8Array): void {
    this.#enqueue(Opcode.Binary, message);
  }

  close(): void {
    if (this.#closed) return;
    this.#enqueue(Opcode.Close, Uint8Array.of(0x03, 0xe8)); // 1000: normal closure
    this.#end("closed by us");
  }

  #enqueue(opcode: number, payload: Uint8Array): void {
    if (this.#closed) return;
    const length = clientFrameLength(payload.length);
    if (this.#outLength + length > this.#out.length) {
      const grown = new Uint8Array(Math.max(2 * this.#out.length, this.#outLength + length));
      grown.set(this.#out.subarray(0, this.#outLength));
      this.#out = grown;
    }
    if (this.#maskOffset === this.#masks.length) {
      crypto.getRandomValues(this.#masks);
      this.#maskOffset = 0;
    }
    const mask = this.#masks.subarray(this.#maskOffset, this.#maskOffset += 4);
    this.#outLength = writeClientFrame(this.#out, this.#outLength, opcode, payload, mask);
    this.#buffered += length;
    if (!this.#writing) this.#drain();
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#outLength > 0) {
        // Everything queued goes out in one write: with Nagle off, fewer segments.
        const bytes = this.#out.subarray(0, this.#outLength);
        this.#out = this.#spare ?? new Uint8Array(SEND_BUFFER_BYTES);
        this.#spare = undefined;
        this.#outLength = 0;
        await writeAll(this.#conn, bytes);
        this.#buffered -= bytes.length;
        if (bytes.buffer.byteLength <= MAX_SPARE_BYTES) this.#spare = new Uint8Array(bytes.buffer);
      }
    } catch (error) {
      this.#end(`write failed: ${(error as Error).message}`);
    } finally {
      this.#writing = false;
      if (this.#closed) this.#closeSocket();
    }
  }

  async #read(early: Uint8Array): Promise<void> {
    const parser = new FrameParser(this.#options.maxMessage);
    let fragments: Uint8Array[] = [];
    let reason = "the server closed the connection";
    try {
      let chunk = early;
      for (;;) {
        for (const frame of parser.push(chunk)) {
          switch (frame.opcode) {
            case Opcode.Binary:
            case Opcode.Continuation:
              fragments.push(frame.payload);
              if (frame.fin) {
                this.#options.onMessage(
                  fragments.length === 1 ? fragments[0] : concatBytes(fragments),
                );
                fragments = [];
              }
              break;
            case Opcode.Ping:
              this.#enqueue(Opcode.Pong, frame.payload);
              break;
            case Opcode.Pong:
              break;
            case Opcode.Close:
              this.#enqueue(Opcode.Close, frame.payload.subarray(0, 2));
              throw new ClosedByServer();
            default:
              throw new WebSocketProtocolError(`unexpected opcode ${frame.opcode}`);
          }
        }
        if (this.#closed) return;
        // A fresh buffer per read: frames handed on are views into it.
        const buffer = new Uint8Array(READ_BYTES);
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        chunk = buffer.subarray(0, n);
      }
    } catch (error) {
      if (!(error instanceof ClosedByServer)) reason = (error as Error).message;
    }
    this.#end(reason);
  }

  #end(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#writing) this.#closeSocket();
    this.#options.onClose(reason);
  }

  #closeSocket(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

class ClosedByServer extends Error {}

function encodeBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array }> {
  let received: Uint8Array = new Uint8Array(0);
  const buffer = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("the connection ended during the upgrade");
    received = concatBytes([received, buffer.subarray(0, n)]);
    for (let i = 3; i < received.length; i++) {
      if (
        received[i - 3] === 13 && received[i - 2] === 10 && received[i - 1] === 13 &&
        received[i] === 10
      ) {
        return {
          head: new TextDecoder().decode(received.subarray(0, i - 3)),
          rest: received.slice(i + 1),
        };
      }
    }
    if (received.length > MAX_HEAD_BYTES) throw new Error("the upgrade response is too large");
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length;) offset += await conn.write(data.subarray(offset));
}
