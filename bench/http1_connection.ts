/**
 * One keep-alive HTTP/1.1 connection from a chosen local address, one request
 * at a time. The relay limits writes per source address, so the load
 * generator spreads its connections over 127.0.0.0/8; `fetch` and
 * `Deno.connect` cannot pick the local address, `node:net` can.
 * @module
 */
import { connect, type Socket } from "node:net";
import { type Http1Response, Http1ResponseParser } from "./http1_response_parser.ts";

/** Where to connect, and from where. */
export interface Http1ConnectionOptions {
  /** Server address (a literal). */
  host: string;
  /** Server port. */
  port: number;
  /** Local address to bind, e.g. `127.3.0.7`; the system's choice when absent. */
  localAddress?: string;
  /** Bound on connecting and on each response, ms. Default 10,000. */
  timeoutMs?: number;
}

const encoder = new TextEncoder();

/**
 * An open connection. `request()` calls must not overlap (the load generator
 * runs one lane per connection).
 */
export class Http1Connection {
  readonly #socket: Socket;
  readonly #parser = new Http1ResponseParser();
  readonly #host: string;
  readonly #timeoutMs: number;
  #waiting: { resolve: (r: Http1Response) => void; reject: (e: Error) => void } | undefined;
  #failure: Error | undefined;

  private constructor(socket: Socket, host: string, timeoutMs: number) {
    this.#socket = socket;
    this.#host = host;
    this.#timeoutMs = timeoutMs;
    socket.on("data", (data: Uint8Array) => {
      try {
        this.#parser.push(data);
      } catch (error) {
        this.#fail(error as Error);
        return;
      }
      for (const response of this.#parser.take()) {
        const waiting = this.#waiting;
        this.#waiting = undefined;
        waiting?.resolve(response);
      }
    });
    socket.on("error", (error: Error) => this.#fail(error));
    socket.on("close", () => this.#fail(new Error("connection closed by the server")));
  }

  /**
   * Connects.
   * @throws {Error} when the connection is refused, the local address cannot be bound, or in time.
   */
  static open(options: Http1ConnectionOptions): Promise<Http1Connection> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: options.host,
        port: options.port,
        localAddress: options.localAddress,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${options.host}:${options.port} timed out`));
      }, timeoutMs);
      socket.once("error", (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new Http1Connection(socket, options.host, timeoutMs));
      });
    });
  }

  /**
   * Sends one request and waits for its whole response.
   * @throws {Error} when the connection failed or closed, or the response is late or malformed.
   */
  request(method: string, path: string, body?: Uint8Array): Promise<Http1Response> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#waiting) return Promise.reject(new Error("a request is already in flight"));
    const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#host}\r\n` +
      (body ? `Content-Length: ${body.length}\r\n` : "") + "\r\n";
    const headBytes = encoder.encode(head);
    const message = new Uint8Array(headBytes.length + (body?.length ?? 0));
    message.set(headBytes);
    if (body) message.set(body, headBytes.length);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new Error(`no response to ${method} ${path} in ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#waiting = {
        resolve: (response) => {
          clearTimeout(timer);
          resolve(response);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#socket.write(message);
    });
  }

  /** Closes the connection. */
  close(): void {
    this.#fail(new Error("connection closed"));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(this.#failure);
    this.#socket.destroy();
  }
}
