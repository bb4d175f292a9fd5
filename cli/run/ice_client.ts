/**
 * What an ICE-mode client (manual, nostr) does once its signaling is open:
 * punch a path, open the session on it, forward the local target until the
 * session or the user ends it. One session: their signaling is one-shot.
 * @module
 */
import {
  dialOverIce,
  type IceAnswer,
  type IceOffer,
  type SignalingChannel,
} from "../../core/connect/mod.ts";
import { ALPN, formatSource, openClientSession, singleSession } from "../../core/tunnel/mod.ts";
import type { Source } from "../../core/tunnel/mod.ts";
import { shutdownSignal } from "../options.ts";
import type { Output } from "../output.ts";
import {
  type IceSettings,
  printPath,
  slowGatheringLine,
  withIceAdvice,
} from "../settings/ice_options.ts";
import { forwardUntilDone, type LocalTarget } from "./local_target.ts";

/** How the session is signaled and opened. */
export interface IceClientOptions {
  /** The signaling channel of this one attempt. */
  channel: SignalingChannel<IceOffer, IceAnswer>;
  /** How candidates are gathered. */
  ice: IceSettings;
  /** The source to ask for. */
  source: Source;
  /** Where it is served locally (bound already). */
  local: LocalTarget;
  /** The credential, once the path is up (the signaling knows it by then). */
  credential: () => Uint8Array;
  /** The whole ICE attempt's time limit (default: core's). */
  timeoutMs?: number;
  /** Which side speaks first on the channel. */
  firstSpeaker?: "acceptor" | "dialer";
  /** Told when the path is up, before the session opens (to close a signaling that is done). */
  onPunched?(): void;
  /** Turns an ICE failure into what the user reads (default: {@linkcode withIceAdvice}). */
  explainFailure?(error: unknown): unknown;
}

/**
 * Punches a path through `channel`, opens the session and forwards until it
 * ends. Ctrl-C or SIGTERM at any point (waiting for a paste included) prints
 * `Shutting down` and returns.
 * @throws {Error} with ICE advice when no path was found; the session's refusal when refused.
 */
export async function runIceClient(options: IceClientOptions, out: Output): Promise<void> {
  const shutdown = shutdownSignal();
  const explain = options.explainFailure ?? withIceAdvice;
  const opening = (async () => {
    const conn = await dialOverIce({
      channel: options.channel,
      ...options.ice,
      alpn: ALPN,
      timeoutMs: options.timeoutMs,
      firstSpeaker: options.firstSpeaker,
      onPath: (path) => printPath(out, path),
      onSlowGathering: () => out.info(slowGatheringLine(options.ice)),
    }).catch((error) => {
      throw explain(error);
    });
    options.onPunched?.();
    return await openClientSession(conn, options.credential(), options.source);
  })();
  const session = await Promise.race([opening, shutdown.then(() => undefined)]);
  if (session === undefined) {
    out.info("Shutting down");
    // The attempt is abandoned (a paste that never comes does not end); a session it still makes is closed.
    opening.then((late) => late.conn.close(), () => {});
    return;
  }
  out.info(`Tunnel ready: ${options.local.address} -> ${formatSource(options.source)}`);
  // One-shot signaling: there is no way to reconnect, so losing the session ends the client.
  await forwardUntilDone(singleSession(session), options.local, out, { shutdown });
}
