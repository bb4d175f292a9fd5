/**
 * The client's side of authentication on the auth stream: present a bearer
 * credential (a token, a session secret), or name a client key, answer the
 * server's challenge with a proof bound to that server, and read the verdict.
 * @module
 */
import { type ClientKey, proveKeyPossession } from "../auth/mod.ts";
import type { FramedStream } from "./framed_stream.ts";
import type { Message } from "./messages.ts";

/** A client key and the server its proofs are for. */
export interface ClientKeyCredential {
  /** The key to prove possession of. */
  clientKey: ClientKey;
  /**
   * The server's public key (its EndpointId's 32 bytes), as the client dialed
   * it: the connection's handshake proved the peer holds it, so a proof made
   * for it is no use to any other server.
   */
  serverId: Uint8Array;
}

/** What a client authenticates with: bearer bytes, or a client key. */
export type ClientCredential = Uint8Array | ClientKeyCredential;

/**
 * Runs the client's part of the exchange on `auth` up to the server's verdict,
 * which it returns as read (an auth-response, or whatever else came). `read`
 * reads the next message under the caller's deadline.
 */
export async function exchangeCredential(
  auth: FramedStream,
  credential: ClientCredential,
  read: () => Promise<Message | null>,
): Promise<Message | null> {
  if (credential instanceof Uint8Array) {
    await auth.write({ type: "auth-request", credential });
    await auth.closeWrite();
    return await read();
  }
  await auth.write({ type: "auth-key-request", publicKey: credential.clientKey.publicKey.bytes });
  const challenge = await read();
  // A server that accepts no keys answers at once with its refusal.
  if (challenge?.type !== "auth-challenge") return challenge;
  const signature = proveKeyPossession(credential.clientKey, challenge.nonce, credential.serverId);
  await auth.write({ type: "auth-key-proof", signature });
  await auth.closeWrite();
  return await read();
}
