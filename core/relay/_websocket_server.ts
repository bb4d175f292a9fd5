/**
 * The server side of a WebSocket (RFC 6455) on the raw connection an HTTP
 * server hands over at an upgrade: the 101 answer, then frames read through
 * {@linkcode FrameParser}, which refuses a message over the cap from its frame
 * header. Deno's built-in server WebSocket reads a whole message (up to 64 MiB)
 * before the application learns its size, so any client, authenticated or not,
 * could make the relay hold that much per connection.
 * @module
 */
import { sha1 } from "@noble/hashes/legacy.js";
import {
  concatBytes,
  encodeServerFrame,
  FrameParser,
  Opcode,
  WebSocketProtocolError,
} from "./_websocket_frames.ts";

const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/**
 * After our close frame, how long the peer has to close its end before the
 * socket is destroyed: a well-behaved peer answers within a round trip.
 */
const CLOSE_GRACE_MS = 1_000;
/** A close frame's reason fits a control frame (125 bytes) after the 2-byte code. */
const MAX_CLOSE_REASON_BYTES = 123;

/** The byte stream under a server WebSocket: a `node:net` socket after an HTTP upgrade. */
export interface UpgradedSocket {
  /** Bytes written and not yet sent. */
  readonly writableLength: number;
  /** Queues bytes to send. */
  write(bytes: Uint8Array): unknown;
  /** Ends our side once what is queued has been sent. */
  end(): unknown;
  /** Closes at once. */
  destroy(): unknown;
  /** Stops reading (the peer's further bytes wait in the kernel, then are discarded). */
  pause(): unknown;
  /** Turns Nagle's algorithm off. */
  setNoDelay?(noDelay?: boolean): unknown;
  /** Subscribes to incoming bytes. */
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  /** Subscribes to the peer's end of its side ("end") or the socket's closing ("close"). */
  on(event: "end" | "close", listener: () => void): unknown;
  /** Subscribes to errors (one with no listener would be thrown). */
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** What a {@linkcode ServerWebSocket} tells its owner. */
export interface ServerWebSocketEvents {
  /** A whole message; `text` when it was a text message (its bytes as sent). */
  onMessage(message: Uint8Array, text: boolean): void;
  /** The peer broke the framing rules (a message over the cap too); nothing more is read. */
  onProtocolError(reason: string): void;
  /** Once, when the connection has ended for any reason. */
  onClose(): void;
}

/** The `Sec-WebSocket-Accept` answer to a `Sec-WebSocket-Key`. */
export function websocketAccept(key: string): string {
  const digest = sha1(new TextEncoder().encode(key + ACCEPT_GUID));
  return btoa(String.fromCharCode(...digest));
}

/** Whether a `Sec-WebSocket-Key` is what RFC 6455 requires: 16 bytes in base64. */
export function isWebSocketKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{22}==$/.test(key);
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
};

/** Answers an upgrade request with a plain-text HTTP error, then ends the connection. */
export function refuseUpgrade(socket: UpgradedSocket, status: number, message: string): void {
  const body = new TextEncoder().encode(message);
  socket.write(
    new TextEncoder().encode(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n` +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    ),
  );
  socket.write(body);
  socket.end();
  // Outside the HTTP server's timeouts now: a peer that never closes is cut off.
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  socket.on("close", () => clearTimeout(timer));
}

/** Options of {@linkcode acceptWebSocket}. */
export interface AcceptWebSocketOptions {
  /** The request's `Sec-WebSocket-Key` (checked with {@linkcode isWebSocketKey}). */
  key: string;
  /** The subprotocol chosen. */
  protocol: string;
  /** Bytes that arrived after the request head (the first frames, perhaps). */
  head: Uint8Array;
  /** Largest message accepted, all fragments together. */
  maxMessage: number;
}

/** Writes the 101 answer; the WebSocket reads nothing until its `start()`. */
export function acceptWebSocket(
  socket: UpgradedSocket,
  options: AcceptWebSocketOptions,
): ServerWebSocket {
  socket.write(
    new TextEncoder().encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${websocketAccept(options.key)}\r\n` +
        `Sec-WebSocket-Protocol: ${options.protocol}\r\n\r\n`,
    ),
  );
  return new ServerWebSocket(socket, options.head, options.maxMessage);
}

/** One accepted WebSocket: binary messages both ways, pings answered, close handshake. */
export class ServerWebSocket {
  readonly #socket: UpgradedSocket;
  readonly #parser: FrameParser;
  #head: Uint8Array | undefined;
  #events: ServerWebSocketEvents | undefined;
  /** "open"; "closing" once a close frame went either way; "failed" after a framing error. */
  #state: "open" | "closing" | "failed" | "closed" = "open";
  #fragments: Uint8Array[] = [];
  #fragmentsAreText = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: UpgradedSocket, head: Uint8Array, maxMessage: number) {
    this.#socket = socket;
    this.#parser = new FrameParser(maxMessage, { masked: true });
    this.#head = head;
    socket.setNoDelay?.(true);
    // A socket error with no listener would be thrown: the whole relay would stop.
    socket.on("error", () => this.#destroy());
  }

  /** Bytes queued and not yet sent. */
  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  /** Starts reading and reporting to `events` (once). */
  start(events: ServerWebSocketEvents): void {
    if (this.#events) return;
    this.#events = events;
    const socket = this.#socket;
    socket.on("data", (chunk) => this.#receive(chunk));
    socket.on("end", () => this.#destroy());
    socket.on("close", () => this.#ended());
    const head = this.#head!;
    this.#head = undefined;
    if (head.length > 0) this.#receive(head);
  }

  /** Sends one binary message; dropped once the connection is closing. */
  send(message: Uint8Array): void {
    if (this.#state !== "open") return;
    this.#socket.write(encodeServerFrame(Opcode.Binary, message));
  }

  /** Sends a close frame with `code` and `reason`, then ends the connection. */
  close(code: number, reason: string): void {
    if (this.#state === "closing" || this.#state === "closed") return;
    const text = new TextEncoder().encode(reason).subarray(0, MAX_CLOSE_REASON_BYTES);
    const payload = new Uint8Array(2 + text.length);
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    payload.set(text, 2);
    this.#closeWith(payload);
  }

  #closeWith(payload: Uint8Array): void {
    this.#state = "closing";
    this.#socket.write(encodeServerFrame(Opcode.Close, payload));
    this.#socket.end();
    this.#timer = setTimeout(() => this.#destroy(), CLOSE_GRACE_MS);
  }

  #receive(chunk: Uint8Array): void {
    // Once closing, input is read and dropped until the peer closes its end.
    if (this.#state !== "open") return;
    let frames;
    try {
      frames = this.#parser.push(chunk);
    } catch (error) {
      if (!(error instanceof WebSocketProtocolError)) throw error;
      return this.#fail(error.message);
    }
    for (const frame of frames) {
      if (this.#state !== "open") return;
      switch (frame.opcode) {
        case Opcode.Binary:
        case Opcode.Text:
          if (this.#fragments.length > 0) return this.#fail("a message inside a fragmented one");
          this.#fragmentsAreText = frame.opcode === Opcode.Text;
          this.#message(frame.payload, frame.fin);
          break;
        case Opcode.Continuation:
          if (this.#fragments.length === 0) return this.#fail("a continuation of no message");
          this.#message(frame.payload, frame.fin);
          break;
        case Opcode.Ping:
          this.#socket.write(encodeServerFrame(Opcode.Pong, frame.payload));
          break;
        case Opcode.Pong:
          break;
        case Opcode.Close:
          // Echo the peer's code, as RFC 6455 asks, and end.
          this.#closeWith(frame.payload.subarray(0, 2));
          break;
        default:
          return this.#fail(`unknown opcode ${frame.opcode}`);
      }
    }
  }

  #message(payload: Uint8Array, fin: boolean): void {
    this.#fragments.push(payload);
    if (!fin) return;
    const parts = this.#fragments;
    this.#fragments = [];
    this.#events!.onMessage(
      parts.length === 1 ? parts[0] : concatBytes(parts),
      this.#fragmentsAreText,
    );
  }

  #fail(reason: string): void {
    this.#state = "failed";
    this.#fragments = [];
    // Reading on to the end of, say, a 64 MiB message would only feed the garbage
    // collector: stop, and let the close below end the connection.
    this.#socket.pause();
    // The owner closes the connection with its own code.
    this.#events!.onProtocolError(reason);
  }

  #destroy(): void {
    clearTimeout(this.#timer);
    this.#socket.destroy();
  }

  #ended(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#timer);
    this.#events?.onClose();
  }
}
