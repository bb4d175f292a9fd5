/**
 * Test harness for the `tunnel` CLI: spawn the real CLI (server, client, one-shot
 * commands) with the forwarding permission set, a throwaway OpenSSH server, a
 * Nostr relay (for nostr mode's signaling), echo servers, deterministic payloads
 * with SHA-256 on both ends, and port helpers.
 * Everything binds to loopback and every wait is bounded.
 *
 * @example
 * ```ts
 * import {
 *   startClient, startServer, startTcpEchoServer, transferPayload,
 * } from "../harness/mod.ts";
 *
 * Deno.test("tunnel carries 16 MiB intact", async () => {
 *   await using echo = startTcpEchoServer();
 *   await using server = await startServer({ authTokens: "tok" });
 *   await using client = await startClient({
 *     serverNodeId: server.endpointId, serverAddr: server.addr,
 *     source: `tcp://127.0.0.1:${echo.port}`, authToken: "tok",
 *   });
 *   const { sent, received } = await transferPayload(client.localPort, 16 << 20);
 *   if (sent.sha256 !== received.sha256) throw new Error("corrupted");
 * });
 * ```
 *
 * @module
 */
export * from "./echo_server.ts";
export * from "./free_port.ts";
export * from "./managed_process.ts";
export * from "./nostr_relay.ts";
export * from "./run_command.ts";
export * from "./self_signed_certificate.ts";
export * from "./sshd.ts";
export * from "./tcp_payload.ts";
export * from "./tunnel_process.ts";
export * from "./wait_for_listener.ts";
export * from "./manual_pair.ts";
export * from "./readme_blocks.ts";
