/**
 * Binds a relay server to a TCP port, plain HTTP or HTTPS, through `node:http`
 * (and, beside HTTPS, the plain HTTP listener for the captive-portal check):
 * its `upgrade` event hands over the raw connection (so the relay reads
 * WebSocket frames with its own limits), and it closes a connection whose
 * request is not complete in time (`Deno.serve` keeps a silent one forever).
 * @module
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { Readable } from "node:stream";
import type { RelayServer } from "./server.ts";
import { plainHttpResponse, TLS_RESPONSE_HEADERS } from "./http_pages.ts";
import { checkTlsPair, type TlsPair } from "./tls_pair.ts";

/**
 * A request must be complete, head and body, this long after its connection
 * opened or its previous request ended: the time a WebSocket client also has
 * to authenticate. Legitimate requests here are a few hundred bytes.
 */
const REQUEST_TIMEOUT_MS = 10_000;
/** node checks the request timeout this often, so a stalled connection lasts up to 11 s. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** Largest request head (node's default). */
const MAX_HEADER_BYTES = 16 * 1024;
/** At shutdown, how long relay clients get to answer their close frames. */
const SHUTDOWN_GRACE_MS = 1_000;
/** Every request is read against this base: only the path and query matter. */
const URL_BASE = "http://relay.invalid";

/** Where {@linkcode serveRelay} listens. */
export interface ServeRelayOptions {
  /** Address to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Serves HTTPS with this certificate chain and key (PEM) when given. */
  tls?: TlsPair;
}

/** A relay bound to a port. */
export interface RelayListener extends AsyncDisposable {
  /** The address bound. */
  readonly hostname: string;
  /** The port bound. */
  readonly port: number;
  /** Stops accepting and ends every connection (call the relay's `close()` first). */
  shutdown(): Promise<void>;
  /**
   * Serves new connections with this certificate chain and key; connections
   * already open keep theirs. Only for a listener serving HTTPS.
   * @throws {Error} one line naming what is wrong with `tls` (the old pair stays in use),
   * or when the listener serves plain HTTP.
   */
  reloadTls(tls: TlsPair): void;
}

/** Where {@linkcode servePlainHttp} listens. */
export interface ServePlainHttpOptions {
  /** Address to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
}

/**
 * Serves `relay` on a port until `shutdown()`.
 *
 * @param relay The relay server.
 * @param options Where to listen, and TLS.
 * @returns The listener, once bound.
 * @throws {Error} with `code` "EADDRINUSE" (or another errno code) when the bind fails,
 * or one line naming what is wrong with `options.tls`.
 *
 * @example
 * ```ts
 * import { createRelayServer } from "./server.ts";
 * const relay = createRelayServer();
 * const listener = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
 * console.log(`http://127.0.0.1:${listener.port}/relay`);
 * relay.close();
 * await listener.shutdown();
 * ```
 */
export async function serveRelay(
  relay: RelayServer,
  options: ServeRelayOptions,
): Promise<RelayListener> {
  const tls = options.tls && checkTlsPair(options.tls);
  const server = tls
    ? createHttpsServer({ ...SERVER_SETTINGS, ...tls, handshakeTimeout: REQUEST_TIMEOUT_MS })
    : createHttpServer(SERVER_SETTINGS);
  // Browsers are told to keep to HTTPS only by an answer over HTTPS.
  const extraHeaders = tls ? TLS_RESPONSE_HEADERS : {};
  const upgraded = new Set<Socket>();
  // Places of connections not yet upgraded, by remote address and port: the
  // same for the TCP socket and the TLS socket over it.
  const places = new Map<string, () => void>();
  const placeOf = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  server.on("connection", (socket: Socket) => {
    const release = relay.admitConnection(socket.remoteAddress ?? "unknown");
    // Refused before a byte is read (over TLS, an HTTP answer could not even
    // be read): the peer sees the connection closed, and retries.
    if (!release) return socket.destroy();
    const id = placeOf(socket);
    places.set(id, release);
    socket.once("close", () => {
      release();
      if (places.get(id) === release) places.delete(id);
    });
  });
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    answer(
      (fetchRequest) =>
        relay.handle(fetchRequest, {
          remoteAddr: { hostname: request.socket.remoteAddress ?? "" },
        }),
      request,
      response,
      extraHeaders,
    );
  });
  server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Uint8Array) => {
    // The relay counts it from here (its unauthenticated and client places).
    places.get(placeOf(socket))?.();
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    socket.on("error", () => socket.destroy());
    let fetchRequest: Request;
    try {
      fetchRequest = toFetchRequest(request, false);
    } catch {
      return socket.destroy();
    }
    relay.upgrade(fetchRequest, socket, head);
  });
  await listen(server, options);
  const address = server.address() as AddressInfo;
  const shutdown = shutdownOnce(server, upgraded);
  return {
    hostname: address.address,
    port: address.port,
    shutdown,
    reloadTls(pair: TlsPair): void {
      if (!tls) throw new Error("this listener serves plain HTTP, not HTTPS");
      // Checked first: node would take anything and fail each handshake after.
      const { cert, key } = checkTlsPair(pair);
      (server as HttpsServer).setSecureContext({ cert, key });
    },
    [Symbol.asyncDispose]: shutdown,
  };
}

/**
 * Serves the plain HTTP side of an HTTPS relay (iroh-relay's `http_bind_addr`):
 * iroh's captive-portal check `/generate_204` and `/robots.txt`, 404 for
 * anything else, upgrades included: the relay protocol is never served in the
 * clear here. Connections count against `relay`'s connection limits, with the
 * same request timeouts as {@linkcode serveRelay}.
 *
 * @param relay The relay whose connection limits apply.
 * @param options Where to listen.
 * @returns The listener, once bound (`reloadTls` throws: it has no TLS).
 * @throws {Error} with `code` "EADDRINUSE" (or another errno code) when the bind fails.
 *
 * @example
 * ```ts
 * import { createRelayServer } from "./server.ts";
 * const relay = createRelayServer();
 * const plain = await servePlainHttp(relay, { hostname: "127.0.0.1", port: 0 });
 * console.log(`http://127.0.0.1:${plain.port}/generate_204`);
 * await plain.shutdown();
 * ```
 */
export async function servePlainHttp(
  relay: RelayServer,
  options: ServePlainHttpOptions,
): Promise<RelayListener> {
  const server = createHttpServer(SERVER_SETTINGS);
  server.on("connection", (socket: Socket) => {
    const release = relay.admitConnection(socket.remoteAddress ?? "unknown");
    if (!release) return socket.destroy();
    socket.once("close", release);
  });
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    answer(plainHttpResponse, request, response, {});
  });
  server.on("upgrade", (_request: IncomingMessage, socket: Socket) => {
    socket.on("error", () => {});
    socket.end(
      "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    );
  });
  await listen(server, options);
  const address = server.address() as AddressInfo;
  const shutdown = shutdownOnce(server, new Set());
  return {
    hostname: address.address,
    port: address.port,
    shutdown,
    reloadTls() {
      throw new Error("this listener serves plain HTTP, not HTTPS");
    },
    [Symbol.asyncDispose]: shutdown,
  };
}

const SERVER_SETTINGS = {
  headersTimeout: REQUEST_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  maxHeaderSize: MAX_HEADER_BYTES,
};

async function listen(server: HttpServer, options: ServePlainHttpOptions): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Stops `server` once: plain connections at once, `upgraded` ones after a grace. */
function shutdownOnce(server: HttpServer, upgraded: Set<Socket>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      const deadline = Date.now() + SHUTDOWN_GRACE_MS;
      while (upgraded.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const socket of upgraded) socket.destroy();
      await closed;
    })();
}

/** The fetch `Request` for a node request; with `body`, its body streams from it. */
function toFetchRequest(request: IncomingMessage, body: boolean): Request {
  const headers = new Headers();
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const method = request.method ?? "GET";
  return new Request(new URL(request.url ?? "/", URL_BASE), {
    method,
    headers,
    body: body && method !== "GET" && method !== "HEAD"
      ? Readable.toWeb(request) as ReadableStream<Uint8Array>
      : null,
  });
}

async function answer(
  handle: (request: Request) => Response | Promise<Response>,
  request: IncomingMessage,
  response: ServerResponse,
  extraHeaders: Readonly<Record<string, string>>,
): Promise<void> {
  response.on("error", () => {});
  let reply: Response;
  try {
    reply = await handle(toFetchRequest(request, true));
  } catch {
    // A failing handler must never take the relay down for everyone.
    reply = new Response("Internal error", { status: 500 });
  }
  try {
    // Every answer here is small: a line of text, the metrics, a pkarr record.
    const body = new Uint8Array(await reply.arrayBuffer());
    response.writeHead(reply.status, { ...Object.fromEntries(reply.headers), ...extraHeaders });
    response.end(body);
  } catch {
    response.destroy();
  }
}
