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
  encodeServerFrame,
  FrameParser,
  Opcode,
  ReceiveBudgetError,
  type ReceiveHold,
  WebSocketProtocolError,
} from "./_websocket_frames.ts";

const EMPTY = new Uint8Array(0);
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
  /** The peer's IP address, when known. */
  readonly remoteAddress?: string;
  /** Bytes written and not yet sent. */
  readonly writableLength: number;
  /**
   * Queues bytes to send; `sent` is called once they have left (handed to the
   * kernel) or been discarded with the connection.
   */
  write(bytes: Uint8Array, sent?: () => void): unknown;
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
  /** The peer asked for more answers (Pongs) than it reads; nothing more is read. */
  onOverBudget(reason: string): void;
  /**
   * What the peer's message still arriving needs does not fit the
   * {@linkcode ReceiveAccount}; nothing more is read, and what it held is given back.
   */
  onOverReceiveBudget(reason: string): void;
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

/**
 * Accounting of the bytes a server WebSocket queues (the relay's
 * `ClientSendBudget`): answers are what the peer asked for (Pongs).
 */
export interface SendAccount {
  /** Whether an answer of `bytes` may be queued. */
  answerFits(bytes: number): boolean;
  /** `bytes` were queued. */
  queue(bytes: number, answer?: boolean): void;
  /** `bytes` queued earlier have left or were discarded. */
  sent(bytes: number, answer?: boolean): void;
  /** The connection is gone. */
  release(): void;
}

/**
 * Accounting of the bytes a server WebSocket holds for a message still arriving
 * (the relay's `ClientReceiveBudget`): a frame's payload between reads, and a
 * fragmented message's fragments until its last.
 */
export interface ReceiveAccount extends ReceiveHold {
  /** The connection is gone: whatever it held is given back. */
  release(): void;
}

const UNCOUNTED_RECEIVE: ReceiveAccount = { tryHold: () => true, free() {}, release() {} };

/** Counts nothing and allows everything: for a socket whose owner keeps no budget. */
const UNCOUNTED: SendAccount = {
  answerFits: () => true,
  queue() {},
  sent() {},
  release() {},
};

/** Options of {@linkcode acceptWebSocket}. */
export interface AcceptWebSocketOptions {
  /** The request's `Sec-WebSocket-Key` (checked with {@linkcode isWebSocketKey}). */
  key: string;
  /** The subprotocol chosen. */
  protocol: string;
  /** Bytes that arrived after the request head (the first frames, perhaps). */
  head: Uint8Array;
  /** Largest message accepted, all fragments together (changeable later). */
  maxMessage: number;
  /** Where queued bytes are counted; nothing is counted without. */
  account?: SendAccount;
  /** Where bytes held for a message still arriving are reserved; nothing is refused without. */
  receiveAccount?: ReceiveAccount;
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
  return new ServerWebSocket(
    socket,
    options.head,
    options.maxMessage,
    options.account,
    options.receiveAccount,
  );
}

/** One accepted WebSocket: binary messages both ways, pings answered, close handshake. */
export class ServerWebSocket {
  readonly #socket: UpgradedSocket;
  readonly #parser: FrameParser;
  #head: Uint8Array | undefined;
  #events: ServerWebSocketEvents | undefined;
  /** "open"; "closing" once a close frame went either way; "failed" after a framing error. */
  #state: "open" | "closing" | "failed" | "closed" = "open";
  /** Inside a fragmented message (its first frame had no FIN). */
  #fragmented = false;
  #fragmentsAreText = false;
  /**
   * The fragments so far, copied one after another: views into the reads
   * would keep each read's whole buffer alive, and an array of them grows by an
   * object per fragment however small (empty ones cost no message bytes).
   */
  #assembly = EMPTY;
  #assembled = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #account: SendAccount;
  readonly #receiveAccount: ReceiveAccount;

  constructor(
    socket: UpgradedSocket,
    head: Uint8Array,
    maxMessage: number,
    account: SendAccount = UNCOUNTED,
    receiveAccount: ReceiveAccount = UNCOUNTED_RECEIVE,
  ) {
    this.#socket = socket;
    this.#parser = new FrameParser(maxMessage, { masked: true, hold: receiveAccount });
    this.#head = head;
    this.#account = account;
    this.#receiveAccount = receiveAccount;
    socket.setNoDelay?.(true);
    // A socket error with no listener would be thrown: the whole relay would stop.
    socket.on("error", () => this.#destroy());
  }

  /** Bytes queued and not yet sent. */
  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  /**
   * Largest message accepted from the next frame on (a relay accepts little
   * before a client has authenticated).
   */
  set maxMessage(bytes: number) {
    this.#parser.maxMessage = bytes;
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
    this.#write(encodeServerFrame(Opcode.Binary, message), false);
  }

  /**
   * Sends one binary message that answers the peer (a relay Pong), within the
   * answer budget of the {@linkcode SendAccount}. When it does not fit, the
   * peer is not reading what it asks for: nothing more is read, and the owner
   * hears of it through `onOverBudget` (and closes the connection).
   */
  sendAnswer(message: Uint8Array, what: string): void {
    if (this.#state !== "open") return;
    this.#answer(encodeServerFrame(Opcode.Binary, message), what);
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
    this.#write(encodeServerFrame(Opcode.Close, payload), false);
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
      if (error instanceof ReceiveBudgetError) return this.#overReceiveBudget(error.message);
      if (!(error instanceof WebSocketProtocolError)) throw error;
      return this.#fail(error.message);
    }
    for (const frame of frames) {
      if (this.#state !== "open") return;
      switch (frame.opcode) {
        case Opcode.Binary:
        case Opcode.Text:
          if (this.#fragmented) return this.#fail("a message inside a fragmented one");
          this.#fragmentsAreText = frame.opcode === Opcode.Text;
          this.#message(frame.payload, frame.fin);
          break;
        case Opcode.Continuation:
          if (!this.#fragmented) return this.#fail("a continuation of no message");
          this.#message(frame.payload, frame.fin);
          break;
        case Opcode.Ping:
          this.#answer(encodeServerFrame(Opcode.Pong, frame.payload), "WebSocket Pongs");
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
    // An unfragmented message, nearly all of them: handed on as it is, nothing held.
    if (fin && !this.#fragmented) return this.#events!.onMessage(payload, this.#fragmentsAreText);
    this.#fragmented = true;
    if (!this.#append(payload)) return;
    if (!fin) return;
    const message = this.#assembly.subarray(0, this.#assembled);
    this.#dropAssembly();
    this.#events!.onMessage(message, this.#fragmentsAreText);
  }

  /**
   * Copies a fragment after the others, growing the buffer by doubling (at
   * most to the message cap) within the {@linkcode ReceiveAccount}.
   * @returns false when the growth did not fit (the connection is stopping).
   */
  #append(payload: Uint8Array): boolean {
    const needed = this.#assembled + payload.length;
    const capacity = this.#assembly.length;
    if (needed > capacity) {
      // The parser refused anything over the cap, so `needed` is within it.
      const grown = Math.max(needed, Math.min(2 * capacity, this.#parser.maxMessage));
      if (!this.#receiveAccount.tryHold(grown - capacity)) {
        this.#overReceiveBudget(`fragments of ${needed} bytes still arriving`);
        return false;
      }
      const assembly = new Uint8Array(grown);
      assembly.set(this.#assembly.subarray(0, this.#assembled));
      this.#assembly = assembly;
    }
    this.#assembly.set(payload, this.#assembled);
    this.#assembled = needed;
    return true;
  }

  #dropAssembly(): void {
    this.#receiveAccount.free(this.#assembly.length);
    this.#assembly = EMPTY;
    this.#assembled = 0;
    this.#fragmented = false;
  }

  /** Queues an answer to the peer within its budget; over it, stops. */
  #answer(frame: Uint8Array, what: string): void {
    if (this.#account.answerFits(frame.length)) return this.#write(frame, true);
    // Reading on would let the peer push on for the whole close grace.
    this.#stop((reason) => this.#events!.onOverBudget(reason), `${what} it does not read`);
  }

  /** Queues `frame`, counted until it has left. */
  #write(frame: Uint8Array, answer: boolean): void {
    const bytes = frame.length;
    this.#account.queue(bytes, answer);
    this.#socket.write(frame, () => this.#account.sent(bytes, answer));
  }

  #overReceiveBudget(reason: string): void {
    this.#stop((why) => this.#events!.onOverReceiveBudget(why), reason);
  }

  #fail(reason: string): void {
    this.#stop((why) => this.#events!.onProtocolError(why), reason);
  }

  /** Stops reading and tells the owner, who closes the connection with its own code. */
  #stop(report: (reason: string) => void, reason: string): void {
    this.#state = "failed";
    // What it held goes back now: others may be waiting for room.
    this.#dropAssembly();
    this.#parser.clear();
    // Reading on to the end of, say, a 64 MiB message would only feed the garbage
    // collector: stop, and let the owner's close end the connection.
    this.#socket.pause();
    report(reason);
  }

  #destroy(): void {
    clearTimeout(this.#timer);
    this.#socket.destroy();
  }

  #ended(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#timer);
    this.#account.release();
    this.#receiveAccount.release();
    this.#events?.onClose();
  }
}
