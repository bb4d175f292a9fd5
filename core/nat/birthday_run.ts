/**
 * Runs a {@linkcode BirthdaySession} over real (or fake) sockets: opens them,
 * feeds the machine the clock and what arrives, sends what it asks, and
 * closes every socket when it ends, fails or is aborted.
 * @module
 */
import type { BirthdayAddress, BirthdaySession } from "./birthday_session.ts";
import type { BirthdaySocket, BirthdaySocketOpener } from "./birthday_sockets.ts";

/** Birthday punching found no pair (or could not open its sockets). */
export class BirthdayFailedError extends Error {
  /** Always "BirthdayFailedError". */
  override name = "BirthdayFailedError";
}

/** The pair a run ended with; its socket is closed, so QUIC can bind `localPort`. */
export interface BirthdayRunResult {
  /** The local UDP port of the winning socket. */
  localPort: number;
  /** The peer's address from that socket. */
  remote: BirthdayAddress;
}

/** Options of {@linkcode runBirthday}. */
export interface BirthdayRunOptions {
  /** Where sockets come from. */
  sockets: BirthdaySocketOpener;
  /** The prober's port (its ICE socket's, whose public mapping the peer knows); 0 for the sprayer. */
  localPort: number;
  /** Ends the run early: every socket closes and the promise rejects with the reason. */
  signal?: AbortSignal;
}

/**
 * Drives `session` to its end.
 * @throws {BirthdayFailedError} when no pair is agreed in time or sockets cannot be opened.
 */
export async function runBirthday(
  session: BirthdaySession,
  options: BirthdayRunOptions,
): Promise<BirthdayRunResult> {
  options.signal?.throwIfAborted();
  const sockets: BirthdaySocket[] = [];
  const closeAll = () => sockets.forEach((socket) => socket.close());
  try {
    for (let i = 0; i < session.sockets; i++) {
      sockets.push(await options.sockets.open(i === 0 ? options.localPort : 0));
    }
  } catch (error) {
    closeAll();
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw new BirthdayFailedError(
      `could not open socket ${sockets.length + 1} of ${session.sockets} (${
        (error as Error).message
      })`,
    );
  }
  let wake: (() => void) | undefined;
  const nudge = () => wake?.();
  const send = (sends: ReturnType<BirthdaySession["poll"]>) => {
    for (const { socket, to, data } of sends) sockets[socket].send(data, to).catch(() => {});
  };
  const onAbort = () => nudge();
  options.signal?.addEventListener("abort", onAbort);
  const receivers = sockets.map(async (socket, index) => {
    for (;;) {
      let received: [Uint8Array, BirthdayAddress];
      try {
        received = await socket.receive();
      } catch {
        return; // closed
      }
      send(session.receive(performance.now(), index, received[1], received[0]));
      nudge();
    }
  });
  try {
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason;
      const now = performance.now();
      send(session.poll(now));
      if (session.state === "done") break;
      if (session.state === "failed") throw new BirthdayFailedError(session.failure!);
      const waitMs = Math.max(0, session.nextWake(now) - performance.now());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), waitMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    const pair = session.pair!;
    return { localPort: sockets[pair.socket].port, remote: pair.remote };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    closeAll();
    await Promise.all(receivers);
  }
}
