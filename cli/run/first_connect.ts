/**
 * A client's first session with its server, as iroh and VPN clients make it:
 * tried once with `--no-reconnect`, else retried with the reconnects' backoff
 * (one line per change of cause, and once a hint when the lookup was the only
 * way and failed), so a client started before its server gets through; a
 * refusal or a wrong key ends it at once. Ctrl-C ends it at any point.
 * @module
 */
import { connectWithRetries } from "../../core/connect/mod.ts";
import { finalConnectFailure, ReconnectLines } from "../../core/endpoint/mod.ts";
import type { TunnelLog } from "../../core/tunnel/mod.ts";
import { lookupAdvice, permanentFailure, type ServerConnectSettings } from "./server_connect.ts";

/** What {@linkcode firstConnect} takes. */
export interface FirstConnectOptions<T> {
  /** One attempt (every path, the handshake), logging to `log`. */
  connect(log: TunnelLog): Promise<T>;
  /** False with `--no-reconnect`: one attempt. */
  retry: boolean;
  /** Where lines go. */
  out: TunnelLog;
  /** The server's EndpointId, for the lines. */
  serverId: string;
  /** The ways the user named (for the lookup hint). */
  settings: Pick<ServerConnectSettings, "serverAddrs" | "relayUrls">;
  /** Aborting it (Ctrl-C) ends the attempts: the promise rejects with its reason. */
  signal: AbortSignal;
  /** Closes a session that was made after `signal` aborted. */
  discard(late: T): void;
  /** Words a final failure for the command (default: as it is). */
  reword?(error: Error): Error;
}

/**
 * The first session.
 * @throws {Error} the failure to exit with; `signal`'s reason once it aborts.
 */
export async function firstConnect<T>(options: FirstConnectOptions<T>): Promise<T> {
  const { out, signal, settings } = options;
  const reword = options.reword ?? ((error: Error) => error);
  const connect = (log: TunnelLog) => unlessAborted(options.connect(log), signal, options.discard);
  if (!options.retry) {
    try {
      return await connect(out);
    } catch (error) {
      if (signal.aborted) throw error;
      const final = reword(permanentFailure(error) ?? finalConnectFailure(error));
      const advice = lookupAdvice(error, settings);
      throw advice === undefined
        ? final
        : new Error(`${final.message}; ${advice}`, { cause: final });
    }
  }
  const lines = new ReconnectLines(out, options.serverId);
  let attempts = 0;
  let advised = false;
  try {
    const { value } = await connectWithRetries({
      // The first attempt says its own warnings (a name that does not resolve); retries, the lines.
      connect: () => connect(++attempts === 1 ? out : lines.attemptLog),
      giveUp: permanentFailure,
      signal,
      onAttemptFailed: (error, _attempt, retryInMs) => {
        lines.notYet(error, retryInMs);
        const advice = advised ? undefined : lookupAdvice(error, settings);
        if (advice !== undefined) {
          advised = true;
          out.info(`Hint: ${advice}`);
        }
      },
    });
    return value;
  } catch (error) {
    throw signal.aborted ? error : reword(error as Error);
  }
}

/** `made`, unless `signal` aborts first (its reason); what is made too late is discarded. */
function unlessAborted<T>(
  made: Promise<T>,
  signal: AbortSignal,
  discard: (late: T) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    made.then((value) => {
      if (signal.aborted) discard(value);
      resolve(value);
    }, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
