/**
 * manual mode's blocks expire: the server gives up ICE {@linkcode ICE_TIMEOUT_MS}
 * after printing its answer, so an answer pasted later finds no one. When ICE
 * fails, these say so, from what each side can measure, instead of blaming NATs.
 * @module
 */
import { ICE_TIMEOUT_MS } from "../core/connect/mod.ts";
import { IceFailedError } from "../core/nat/mod.ts";
import { withIceAdvice } from "./settings/ice_options.ts";

const seconds = (ms: number) => Math.round(ms / 1000);

/**
 * The client's failure: when its ICE found no path and the answer came more
 * than the server's wait after the offer was printed, the answer had most
 * likely expired (the server printed it at least that long before); otherwise
 * the general ICE advice.
 *
 * @param error What the ICE attempt threw.
 * @param answerDelayMs From printing the offer to reading the answer; undefined
 * when no answer was read.
 * @example
 * ```ts
 * throw explainClientIceFailure(error, 31_000); // "... pasted 31 s after ..."
 * ```
 */
export function explainClientIceFailure(error: unknown, answerDelayMs?: number): unknown {
  const ice = iceFailure(error);
  if (!ice || ice.pathFound || answerDelayMs === undefined || answerDelayMs <= ICE_TIMEOUT_MS) {
    return withIceAdvice(error);
  }
  return new Error(
    `ICE timed out waiting for the server: its answer was pasted ${
      seconds(answerDelayMs)
    } s after this offer was printed, and the server stops waiting ${
      seconds(ICE_TIMEOUT_MS)
    } s after printing its answer, so the answer had most likely expired. ` +
      `Start both sides again and paste the answer into the client within ${
        seconds(ICE_TIMEOUT_MS)
      } s of the server printing it.`,
    { cause: ice },
  );
}

/**
 * The server's failure: when no connectivity check with the client ever
 * worked, either the answer it printed was not pasted in time (it expired) or
 * no path exists between the two. The server cannot tell which, so both are
 * named, shortly, after what it knows; the ICE advice follows.
 *
 * @param error What the ICE attempt threw.
 * @example
 * ```ts
 * throw explainServerIceFailure(error);
 * ```
 */
export function explainServerIceFailure(error: unknown): unknown {
  const ice = iceFailure(error);
  if (!ice || ice.pathFound) return withIceAdvice(error);
  const advised = withIceAdvice(error) as Error;
  const wait = seconds(ICE_TIMEOUT_MS);
  // The advice after the reason, which this message words for the server.
  const advice = advised.message.slice(
    ice.message.indexOf(`(${ice.detail}). `) + ice.detail.length + 4,
  );
  return new Error(
    `ICE found no working path to the client within ${wait} s of printing the answer ` +
      `(${ice.detail}). Either the answer was not pasted into the client in time (it expires ` +
      `after ${wait} s: start the client again and paste the new blocks promptly), or no path ` +
      `exists between the two. ${advice}`,
    { cause: ice },
  );
}

function iceFailure(error: unknown): IceFailedError | undefined {
  return error instanceof IceFailedError ? error : undefined;
}
