/**
 * Hole punching for a session that started on a relay (or any indirect path):
 * the client offers ICE parameters on the session's path stream, the server
 * answers with its own and a join secret, both punch through, and the client's
 * QUIC connection on the nominated pair joins the session as a direct path
 * (proving the secret; no second authentication, no second session slot).
 * When ICE finds no pair and exactly one side's NAT maps per destination,
 * both try birthday punching before the attempt counts as failed.
 * While the session has no live direct path the client tries again, with
 * backoff; the relay path stays up as the fallback throughout.
 * @module
 */
import { constantTimeEqual } from "../auth/mod.ts";
import {
  acceptOverIce,
  dialOverIce,
  type IceAnswer,
  type IceFallback,
  type IceOffer,
  type PortLease,
  type SignalingChannel,
} from "../connect/mod.ts";
import type { EndpointId, SecretKey } from "../identity/mod.ts";
import {
  BirthdayFailedError,
  decideBirthday,
  type PathMethod,
  pathMethodOf,
  punchBirthday,
} from "../nat/mod.ts";
import { CloseCode, deadline, type PeerConnection } from "../transport/mod.ts";
import { formatHostPort, FramedStream, type SessionPaths } from "../tunnel/mod.ts";
import {
  decodePathAnswer,
  decodePathOffer,
  encodePathAnswer,
  encodePathOffer,
  JOIN_SECRET_LENGTH,
} from "./path_signal.ts";

/** ICE gives up on one attempt after this long: working pairs take well under a second. */
export const UPGRADE_ICE_TIMEOUT_MS = 10_000;
/** Waits between failed attempts: the first retry comes within 30 s, later ones every 30 s. */
export const UPGRADE_RETRY_MS: readonly number[] = [5_000, 10_000, 20_000, 30_000];
/** After a direct path is lost, the next attempt comes this soon. */
const RETRY_AFTER_LOSS_MS = 1_000;
/** How often the client checks whether the session still has a live direct path. */
const WATCH_INTERVAL_MS = 500;
/** Time for the joining connection's first stream and its secret. */
const JOIN_TIMEOUT_MS = 5_000;

/** Where hole punching reports. */
export interface UpgradeLog {
  /** Detail: each attempt and why it failed. */
  debug(line: string): void;
  /** Once: hole punching cannot work in this process (a missing permission). */
  warn(line: string): void;
}

/** Options of both sides. */
export interface UpgradeOptions {
  /** STUN servers (`host:port`) for server-reflexive candidates; none: host candidates only. */
  stunServers: string[];
  /** Offer only these local addresses (default: every interface). */
  hostAddresses?: string[];
  /** Interface addresses never to offer (a VPN's own device). */
  avoidAddress?: (address: string) => boolean;
  /** ALPN of the direct QUIC connection (the session's protocol). */
  alpn: string;
  /** ICE time limit per attempt (default {@linkcode UPGRADE_ICE_TIMEOUT_MS}). */
  iceTimeoutMs?: number;
  /** Where attempts are reported. */
  log: UpgradeLog;
  /** Maps the ICE socket's port at this side's router (see `IceConnectCommonOptions.mapPort`). */
  mapPort?: (localPort: number, stunDone: Promise<void>) => Promise<PortLease | undefined>;
  /** Told each direct path that joined the session, with how it was punched (for path lines). */
  onJoined?: (joined: JoinedPath) => void;
}

/** A direct path that joined the session. */
export interface JoinedPath {
  /** The peer's address on the path, as `host:port`. */
  label: string;
  /** How the pair was found (host, server-reflexive, port-mapped, birthday...). */
  method: PathMethod;
}

/** The client's hole punching for one session. */
export interface Upgrader {
  /** Stops trying (a direct path that joined stays). */
  stop(): void;
  /** Settles when the loop has stopped. */
  readonly done: Promise<void>;
}

/**
 * Keeps giving the session a direct path: tries at once, again with backoff
 * after failures, and again soon after a direct path is lost.
 * @param paths the session's paths (its first one carries the signaling)
 * @param serverId the key the direct QUIC connection is pinned to
 */
export function keepUpgrading(
  paths: SessionPaths,
  serverId: EndpointId,
  options: UpgradeOptions,
): Upgrader {
  const stopper = new AbortController();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stopper.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  const hasLiveDirect = () => paths.paths().some((p) => p.kind === "direct" && p.live);
  paths.conn.closed.then(() => stopper.abort());
  const done = (async () => {
    let failures = 0;
    let delay = 0;
    while (!stopper.signal.aborted) {
      if (delay > 0) await sleep(delay);
      if (stopper.signal.aborted) return;
      if (hasLiveDirect()) {
        while (hasLiveDirect() && !stopper.signal.aborted) await sleep(WATCH_INTERVAL_MS);
        options.log.debug("direct path lost; punching again");
        failures = 0;
        delay = RETRY_AFTER_LOSS_MS;
        continue;
      }
      try {
        const joined = await upgradeOnce(paths, serverId, options, stopper.signal);
        options.log.debug(
          `hole punching: direct path ${joined.label} joined the session (${joined.method})`,
        );
        options.onJoined?.(joined);
        failures = 0;
        delay = 0;
      } catch (error) {
        if (stopper.signal.aborted) return;
        if (error instanceof Deno.errors.NotCapable) {
          options.log.warn(`no hole punching: ${(error as Error).message}; staying on the relay`);
          return;
        }
        if (error instanceof SessionFirstPathGone) return;
        delay = UPGRADE_RETRY_MS[Math.min(failures++, UPGRADE_RETRY_MS.length - 1)];
        options.log.debug(
          `hole punching failed: ${(error as Error).message}; next try in ${delay / 1000} s`,
        );
      }
    }
  })();
  return { stop: () => stopper.abort(), done };
}

/** The signaling stream ended: no more attempts in this session. */
class SessionFirstPathGone extends Error {
  override name = "SessionFirstPathGone";
}

/**
 * ICE's time limit in an attempt where birthday punching will follow: pairs
 * that work take under 1.4 s in the NAT bed (a filtering NAT drops the first
 * checks, retried a second later), so waiting the full
 * {@linkcode UPGRADE_ICE_TIMEOUT_MS} would only delay the punch. Both sides
 * decide it from the same candidates, so they give up on ICE together.
 */
export const ICE_TIMEOUT_BEFORE_BIRTHDAY_MS = 3_000;

/**
 * What an attempt tries once ICE found no pair: birthday punching when one
 * NAT maps per destination and the other does not (decided from the mapping
 * both sides advertised); otherwise the ICE failure stands, and why is logged.
 */
function birthdayFallback(
  secret: () => Uint8Array,
  options: UpgradeOptions,
  signal: AbortSignal,
): IceFallback {
  return {
    iceTimeoutMs(local, remote) {
      const decision = decideBirthday(local.candidates, remote.candidates);
      if (decision.role === "none") return undefined;
      return Math.min(ICE_TIMEOUT_BEFORE_BIRTHDAY_MS, options.iceTimeoutMs ?? Infinity);
    },
    async run(local, remote, failure) {
      const decision = decideBirthday(local.candidates, remote.candidates);
      if (decision.role === "none") {
        options.log.debug(`no birthday punching: ${decision.reason}`);
        throw failure;
      }
      options.log.debug(`ICE found no pair; birthday punching as the ${decision.role}`);
      try {
        return await punchBirthday({ decision, secret: secret(), signal });
      } catch (error) {
        if (!(error instanceof BirthdayFailedError)) throw error;
        throw new Error(`${failure.message}; birthday punching: ${error.message}`);
      }
    },
  };
}

/** One attempt; resolves with the direct path once it joined. */
async function upgradeOnce(
  paths: SessionPaths,
  serverId: EndpointId,
  options: UpgradeOptions,
  signal: AbortSignal,
): Promise<JoinedPath> {
  const timeoutMs = options.iceTimeoutMs ?? UPGRADE_ICE_TIMEOUT_MS;
  paths.discardSignals(); // an answer to an earlier, failed attempt
  let secret: Uint8Array | undefined;
  const channel: SignalingChannel<IceOffer, IceAnswer> = {
    async send(offer) {
      try {
        await paths.signal({ type: "path-offer", body: encodePathOffer({ ice: offer.ice }) });
      } catch (error) {
        throw new SessionFirstPathGone((error as Error).message);
      }
    },
    async receive() {
      const signal = await deadline(paths.nextSignal(), timeoutMs, "the server did not answer");
      if (!signal) throw new SessionFirstPathGone("the session's first path closed");
      if (signal.type !== "path-answer") throw new Error(`expected a path answer`);
      const answer = decodePathAnswer(signal.body);
      secret = answer.secret;
      return { ice: answer.ice, serverId };
    },
  };
  let method: PathMethod = "host";
  const conn = await dialOverIce({
    channel,
    stunServers: options.stunServers,
    hostAddresses: options.hostAddresses,
    avoidAddress: options.avoidAddress,
    mapPort: options.mapPort,
    alpn: options.alpn,
    timeoutMs,
    fallback: birthdayFallback(() => secret!, options, signal),
    onPath: (path) => method = pathMethodOf(path),
  });
  try {
    const stream = new FramedStream(await conn.openStream());
    await stream.write({ type: "path-join", secret: secret! });
    const label = formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port);
    if (paths.add(conn, stream, { kind: "direct", label: `${label} (${method})` }) < 0) {
      throw new Error("the session ended meanwhile");
    }
    return { label, method };
  } catch (error) {
    conn.close({ code: CloseCode.Done, reason: "join failed" });
    throw error;
  }
}

/**
 * Answers the client's hole-punching offers for one session, one at a time,
 * until its first path's stream ends. Never throws: a failed attempt is logged
 * and the next offer answered.
 * @param secretKey the server's key, which the direct QUIC endpoint presents
 */
export async function answerUpgrades(
  paths: SessionPaths,
  secretKey: SecretKey,
  options: UpgradeOptions,
): Promise<void> {
  const ended = new AbortController(); // a birthday punch stops with the session
  paths.conn.closed.then(() => ended.abort(new Error("the session ended")));
  for (;;) {
    const signal = await paths.nextSignal();
    if (!signal) return;
    if (signal.type !== "path-offer") continue;
    try {
      const joined = await answerOnce(paths, secretKey, signal.body, options, ended.signal);
      options.log.debug(
        `hole punching: direct path ${joined.label} joined the session (${joined.method})`,
      );
      options.onJoined?.(joined);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) {
        options.log.warn(`no hole punching: ${(error as Error).message}`);
      } else {
        options.log.debug(`hole punching failed: ${(error as Error).message}`);
      }
    }
  }
}

async function answerOnce(
  paths: SessionPaths,
  secretKey: SecretKey,
  body: Uint8Array,
  options: UpgradeOptions,
  ended: AbortSignal,
): Promise<JoinedPath> {
  const offer = decodePathOffer(body);
  const secret = crypto.getRandomValues(new Uint8Array(JOIN_SECRET_LENGTH));
  const timeoutMs = options.iceTimeoutMs ?? UPGRADE_ICE_TIMEOUT_MS;
  const channel: SignalingChannel<IceAnswer, IceOffer> = {
    receive: () => Promise.resolve({ ice: offer.ice }),
    send: (answer) =>
      paths.signal({ type: "path-answer", body: encodePathAnswer({ ice: answer.ice, secret }) }),
  };
  let method: PathMethod = "host";
  const conn: PeerConnection = await acceptOverIce({
    channel,
    secretKey,
    stunServers: options.stunServers,
    hostAddresses: options.hostAddresses,
    avoidAddress: options.avoidAddress,
    mapPort: options.mapPort,
    alpn: options.alpn,
    timeoutMs,
    fallback: birthdayFallback(() => secret, options, ended),
    onPath: (path) => method = pathMethodOf(path),
  });
  try {
    const joined = await deadline(
      (async () => {
        const raw = await conn.acceptStream();
        if (!raw) throw new Error("the direct connection closed before joining");
        const stream = new FramedStream(raw);
        const join = await stream.read();
        return { stream, join };
      })(),
      JOIN_TIMEOUT_MS,
      "the direct connection did not join in time",
    );
    if (joined.join?.type !== "path-join" || !constantTimeEqual(secret, joined.join.secret)) {
      throw new Error("the direct connection did not present the session's secret");
    }
    const label = formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port);
    if (paths.add(conn, joined.stream, { kind: "direct", label: `${label} (${method})` }) < 0) {
      throw new Error("the session ended meanwhile");
    }
    return { label, method };
  } catch (error) {
    conn.close({ code: CloseCode.AuthFailed, reason: (error as Error).message.slice(0, 200) });
    throw error;
  }
}
