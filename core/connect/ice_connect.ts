/**
 * Connection establishment over ICE: gather, exchange parameters through a
 * {@linkcode SignalingChannel}, punch through, then hand the nominated UDP path
 * to a key-pinned QUIC connection. Mode-agnostic: manual mode's copy-paste and
 * nostr's events are channels.
 * @module
 */
import { isIP } from "node:net";
import { sayIfSlow } from "../log/mod.ts";
import { isLoopbackAddress } from "../net/mod.ts";
import type { SecretKey } from "../identity/mod.ts";
import {
  IceAgent,
  IceFailedError,
  type NominatedPath,
  type RemoteIceParameters,
} from "../nat/mod.ts";
import {
  congestionControlToward,
  deadline,
  dialQuic,
  listenQuic,
  type PeerConnection,
} from "../transport/mod.ts";
import type { IceAnswer, IceOffer, SignalingChannel } from "./signaling_channel.ts";

/**
 * ICE gives up after this long: far past the few hundred milliseconds a working
 * pair needs even through NATs (see docs/NAT_MATRIX.md), and short enough that
 * both sides of manual mode stop within 30 s of the offer, pasting included.
 */
export const ICE_TIMEOUT_MS = 25_000;

/** A UDP port mapped at this side's router, held until released. */
export interface PortLease {
  /** The router's external address for the port. */
  address: string;
  /** The external port. */
  port: number;
  /** Which protocol granted it. */
  protocol: "pcp" | "nat-pmp" | "upnp";
  /** Deletes the mapping at the router. Idempotent. */
  release(): Promise<void>;
}

/**
 * Priority of a port-mapped candidate: type preference 105, between
 * server-reflexive (100) and peer-reflexive (110), so it is checked before the
 * STUN-learned address, which a mapping usually outlives (RFC 8445 5.1.2.1).
 */
const PORT_MAPPED_PRIORITY = 105 * 2 ** 24 + 65_535 * 2 ** 8 + 255;

/** Options shared by {@linkcode dialOverIce} and {@linkcode acceptOverIce}. */
export interface IceConnectCommonOptions {
  /** STUN servers (`host:port`); none: host candidates only. */
  stunServers: string[];
  /** Offer only these local addresses (default: every interface). */
  hostAddresses?: string[];
  /** Interface addresses never to offer (see `IceGatherOptions.avoidAddress`). */
  avoidAddress?: (address: string) => boolean;
  /** ALPN of the protocol QUIC carries. */
  alpn: string;
  /** Give up on ICE (and, accepting, on the QUIC client) after this long. */
  timeoutMs?: number;
  /** Another way to a path once ICE found none (e.g. birthday punching). */
  fallback?: IceFallback;
  /** Told the nominated path before QUIC takes it over (for status lines). */
  onPath?: (path: NominatedPath) => void;
  /**
   * Asks this side's router to map the UDP port of the agent's IPv4 socket;
   * the mapped address is offered as a candidate, and the lease kept as long
   * as the connection on that port lives (released when ICE fails).
   */
  mapPort?: (localPort: number, stunDone: Promise<void>) => Promise<PortLease | undefined>;
  /**
   * Told once when gathering candidates takes longer than `SLOW_STEP_MS` (a
   * STUN server or its name that does not answer), for a progress line.
   */
  onSlowGathering?: () => void;
  /**
   * Who speaks first on the channel. "dialer" (default, manual mode): the
   * dialer's parameters, then the accepting side's. "acceptor" (nostr mode,
   * where the server offers after the client's request): the accepting side
   * sends its parameters first, the dialer answers.
   */
  firstSpeaker?: "dialer" | "acceptor";
}

/**
 * What is tried once ICE found no pair (its sockets are closed by then),
 * given both sides' parameters.
 */
export interface IceFallback {
  /**
   * ICE's time limit when the fallback applies to this pair of sides (it
   * wants its turn sooner), or undefined for the usual `timeoutMs`. Both
   * sides must get the same answer from the same two parameter sets, so that
   * they give up on ICE together.
   */
  iceTimeoutMs(local: RemoteIceParameters, remote: RemoteIceParameters): number | undefined;
  /**
   * Resolves with a path whose socket is released, or rejects (its error is
   * what the connect rejects with; rethrow `failure` to keep ICE's).
   */
  run(
    local: RemoteIceParameters,
    remote: RemoteIceParameters,
    failure: IceFailedError,
  ): Promise<NominatedPath>;
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
  // The acceptor first: its parameters arrive before we gather.
  const early = options.firstSpeaker === "acceptor" ? await options.channel.receive() : undefined;
  const session = await IceSession.gather("controlling", options);
  let answer: IceAnswer;
  try {
    await options.channel.send({ ice: session.parameters });
    answer = early ?? await options.channel.receive();
  } catch (error) {
    await session.close();
    throw error;
  }
  const { path, endpoint } = await session.takeOver(answer.ice);
  try {
    const conn = await dialQuic({
      addrs: [{ hostname: path.remote.address, port: path.remote.port }],
      endpointId: answer.serverId,
      alpn: options.alpn,
      endpoint,
      congestionControl: congestionControlToward(path.remote.address),
    });
    session.keepLeaseWhile(conn, path);
    return conn;
  } catch (error) {
    endpoint.close();
    await session.close();
    throw error;
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
  const speaksFirst = options.firstSpeaker === "acceptor";
  const early = speaksFirst ? undefined : await options.channel.receive();
  const session = await IceSession.gather("controlled", options);
  let offer: IceOffer;
  try {
    await options.channel.send({
      ice: session.parameters,
      serverId: options.secretKey.endpointId,
    });
    offer = early ?? await options.channel.receive();
  } catch (error) {
    await session.close();
    throw error;
  }
  const { path, endpoint } = await session.takeOver(offer.ice);
  const listener = listenQuic({
    endpoint,
    secretKey: options.secretKey,
    alpn: options.alpn,
    // The listener serves this one path, so it takes the path's controller.
    congestionControl: congestionControlToward(path.remote.address),
  });
  try {
    const conn = await deadline(
      listener.accept(),
      session.timeoutMs,
      "the peer did not connect over QUIC in time",
    );
    if (!conn) throw new Error("the listener closed before the peer connected");
    conn.closed.finally(() => listener.close());
    session.keepLeaseWhile(conn, path);
    return conn;
  } catch (error) {
    listener.close();
    await session.close();
    throw error;
  }
}

/** One side's ICE from gathering to the QUIC endpoint that takes the path over. */
class IceSession {
  readonly #agent: IceAgent;
  readonly #options: IceConnectCommonOptions;
  readonly #lease: PortLease | undefined;
  readonly #leasePort: number | undefined;

  private constructor(
    agent: IceAgent,
    options: IceConnectCommonOptions,
    lease: PortLease | undefined,
    leasePort: number | undefined,
  ) {
    this.#agent = agent;
    this.#options = options;
    this.#lease = lease;
    this.#leasePort = leasePort;
  }

  static async gather(
    role: "controlling" | "controlled",
    options: IceConnectCommonOptions,
  ): Promise<IceSession> {
    const leased: { lease?: PortLease; port?: number } = {};
    const mapPort = options.mapPort;
    try {
      const agent = await sayIfSlow(
        IceAgent.gather({
          role,
          stunServers: options.stunServers,
          hostAddresses: options.hostAddresses,
          avoidAddress: options.avoidAddress,
          candidateSource: mapPort && (async (sockets, stunDone) => {
            const socket = sockets.find((s) =>
              isIP(s.address) === 4 && !isLoopbackAddress(s.address)
            );
            if (!socket) return [];
            const lease = await mapPort(socket.port, stunDone);
            if (!lease) return [];
            leased.lease = lease;
            leased.port = socket.port;
            return [{
              foundation: `portmap${lease.protocol === "nat-pmp" ? "natpmp" : lease.protocol}`,
              component: 1,
              transport: "udp",
              priority: PORT_MAPPED_PRIORITY,
              address: lease.address,
              port: lease.port,
              type: "srflx",
              relatedAddress: socket.address,
              relatedPort: socket.port,
              portMap: lease.protocol,
            }];
          }),
        }),
        () => options.onSlowGathering?.(),
      );
      return new IceSession(agent, options, leased.lease, leased.port);
    } catch (error) {
      await leased.lease?.release();
      throw error;
    }
  }

  /**
   * Keeps the port mapping while `conn` lives when the path took over the
   * mapped socket's port; gives it up at once otherwise (birthday punching
   * found another socket).
   */
  keepLeaseWhile(conn: PeerConnection, path: NominatedPath): void {
    const lease = this.#lease;
    if (!lease) return;
    if (path.bindPort === this.#leasePort) conn.closed.finally(() => lease.release());
    else lease.release();
  }

  get timeoutMs(): number {
    return this.#options.timeoutMs ?? ICE_TIMEOUT_MS;
  }

  /** What the peer needs from us. */
  get parameters(): RemoteIceParameters {
    return { credentials: this.#agent.localCredentials, candidates: this.#agent.localCandidates };
  }

  /**
   * Runs the checks against `remote`, releases the nominated path and binds a
   * QUIC endpoint on its local port. Closes the agent either way.
   */
  async takeOver(remote: RemoteIceParameters) {
    try {
      const fallback = this.#options.fallback;
      const timeoutMs = fallback?.iceTimeoutMs(this.parameters, remote) ?? this.timeoutMs;
      let path: NominatedPath;
      try {
        path = await this.#agent.connect(remote, { timeoutMs });
      } catch (error) {
        if (!(error instanceof IceFailedError) || !fallback) throw error;
        await this.#agent.close(); // its ports free before the fallback binds one
        path = await fallback.run(this.parameters, remote, error);
      }
      this.#options.onPath?.(path);
      await path.release();
      const endpoint = new Deno.QuicEndpoint({ hostname: path.bindAddress, port: path.bindPort });
      return { path, endpoint };
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Closes the agent and gives up the port mapping, if any. */
  async close(): Promise<void> {
    await this.#agent.close();
    await this.#lease?.release();
  }
}
