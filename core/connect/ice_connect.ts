/**
 * Connection establishment over ICE: gather, exchange parameters through a
 * {@linkcode SignalingChannel}, punch through, then hand the nominated UDP path
 * to a key-pinned QUIC connection. Mode-agnostic: manual mode's copy-paste and
 * nostr's events are channels.
 * @module
 */
import type { SecretKey } from "../identity/mod.ts";
import { IceAgent, type NominatedPath } from "../nat/mod.ts";
import { deadline, dialQuic, listenQuic, type PeerConnection } from "../transport/mod.ts";
import type { IceAnswer, IceOffer, SignalingChannel } from "./signaling_channel.ts";

/**
 * ICE gives up after this long: far past the few hundred milliseconds a working
 * pair needs even through NATs (see docs/NAT_MATRIX.md), and short enough that
 * both sides of manual mode stop within 30 s of the offer, pasting included.
 */
export const ICE_TIMEOUT_MS = 25_000;

/** Options shared by {@linkcode dialOverIce} and {@linkcode acceptOverIce}. */
export interface IceConnectCommonOptions {
  /** STUN servers (`host:port`); none: host candidates only. */
  stunServers: string[];
  /** Offer only these local addresses (default: every interface). */
  hostAddresses?: string[];
  /** ALPN of the protocol QUIC carries. */
  alpn: string;
  /** Give up on ICE (and, accepting, on the QUIC client) after this long. */
  timeoutMs?: number;
  /** Told the nominated path before QUIC takes it over (for status lines). */
  onPath?: (path: NominatedPath) => void;
}

/** Options of {@linkcode dialOverIce}. */
export interface DialOverIceOptions extends IceConnectCommonOptions {
  /** Carries our offer to the peer and its answer back. */
  channel: SignalingChannel<IceOffer, IceAnswer>;
}

/**
 * Dials a peer over ICE (controlling role) and returns a QUIC connection pinned
 * to the key the answer names.
 * @throws {IceFailedError} when no candidate pair works; the channel's errors
 * (refusal, input ended); {@linkcode ConnectError} when QUIC fails on the path.
 */
export async function dialOverIce(options: DialOverIceOptions): Promise<PeerConnection> {
  let agent: IceAgent | undefined = await IceAgent.gather({
    role: "controlling",
    stunServers: options.stunServers,
    hostAddresses: options.hostAddresses,
  });
  try {
    await options.channel.send({
      ice: { credentials: agent.localCredentials, candidates: agent.localCandidates },
    });
    const answer = await options.channel.receive();
    const path = await agent.connect(answer.ice, {
      timeoutMs: options.timeoutMs ?? ICE_TIMEOUT_MS,
    });
    options.onPath?.(path);
    await path.release();
    agent = undefined;
    const endpoint = new Deno.QuicEndpoint({ hostname: path.bindAddress, port: path.bindPort });
    try {
      return await dialQuic({
        addrs: [{ hostname: path.remote.address, port: path.remote.port }],
        endpointId: answer.serverId,
        alpn: options.alpn,
        endpoint,
      });
    } catch (error) {
      endpoint.close();
      throw error;
    }
  } finally {
    await agent?.close();
  }
}

/** Options of {@linkcode acceptOverIce}. */
export interface AcceptOverIceOptions extends IceConnectCommonOptions {
  /** Carries the peer's offer to us and our answer back. */
  channel: SignalingChannel<IceAnswer, IceOffer>;
  /** The key our QUIC endpoint presents (named in the answer). */
  secretKey: SecretKey;
}

/**
 * Accepts one peer over ICE (controlled role): receives its offer, answers,
 * punches through and accepts its QUIC connection on the nominated path. The
 * endpoint lives as long as the returned connection.
 * @throws {IceFailedError} when no candidate pair works; the channel's errors;
 * {@linkcode DeadlineError} when the peer does not connect over QUIC in time.
 */
export async function acceptOverIce(options: AcceptOverIceOptions): Promise<PeerConnection> {
  const offer = await options.channel.receive();
  const timeoutMs = options.timeoutMs ?? ICE_TIMEOUT_MS;
  let agent: IceAgent | undefined = await IceAgent.gather({
    role: "controlled",
    stunServers: options.stunServers,
    hostAddresses: options.hostAddresses,
  });
  try {
    await options.channel.send({
      ice: { credentials: agent.localCredentials, candidates: agent.localCandidates },
      serverId: options.secretKey.endpointId,
    });
    const path = await agent.connect(offer.ice, { timeoutMs });
    options.onPath?.(path);
    await path.release();
    agent = undefined;
    const endpoint = new Deno.QuicEndpoint({ hostname: path.bindAddress, port: path.bindPort });
    const listener = listenQuic({ endpoint, secretKey: options.secretKey, alpn: options.alpn });
    try {
      const conn = await deadline(
        listener.accept(),
        timeoutMs,
        "the peer did not connect over QUIC in time",
      );
      if (!conn) throw new Error("the listener closed before the peer connected");
      conn.closed.finally(() => listener.close());
      return conn;
    } catch (error) {
      listener.close();
      throw error;
    }
  } finally {
    await agent?.close();
  }
}
