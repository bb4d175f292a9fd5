/**
 * A STUN server's one job (RFC 5389 Binding): tell a client the address and
 * port its datagrams arrive from. Sans-IO: the socket loop is the caller's.
 * (The client side lives in `core/nat`, through werift.)
 *
 * ```ts
 * import { stunResponse } from "./mod.ts";
 *
 * const socket = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 3478 });
 * for await (const [datagram, from] of socket) {
 *   const answer = stunResponse(datagram, from as Deno.NetAddr);
 *   if (answer) await socket.send(answer, from); // anything not STUN is left alone
 * }
 * ```
 * @module
 */
export { stunResponse } from "./stun_response.ts";
