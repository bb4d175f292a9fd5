/**
 * Keeps a connection up: when the one in use is lost, connects again with
 * backoff until that works, until trying again cannot help, or until closed.
 * Meanwhile callers that need the connection wait for the next one, for a
 * bounded time. Connecting, noticing a loss, sleeping and the clock all come in
 * as functions, so the policy is tested in memory with a fake clock.
 * @module
 */
import { Backoff, MAX_BACKOFF_MS } from "./backoff.ts";
import { abortableSleep } from "./retry_connect.ts";

/**
 * A connection that lived this long was stable: once it is lost the backoff
 * starts over. One that lived less keeps the backoff growing, so a peer that
 * accepts and then drops every connection is not dialed faster than a dead one.
 * The longest wait, so such a peer costs at most one connect per longest wait.
 */
export const STABLE_CONNECTION_MS: number = MAX_BACKOFF_MS;

/** Where a {@linkcode Reconnector} stands. */
export type ReconnectorState = "connected" | "reconnecting" | "ended" | "closed";

/** Options for {@linkcode Reconnector}. */
export interface ReconnectorOptions<T> {
  /** Makes a new connection (the whole of it: every path, the handshake). */
  connect(signal: AbortSignal): Promise<T>;
  /** Settles, with the reason, when `value` is lost. */
  lost(value: T): Promise<string>;
  /** Closes `value` (on {@linkcode Reconnector.close}, or one that came too late). */
  close(value: T, reason: string): void;
  /**
   * Whether a failed attempt ends reconnecting because trying again cannot
   * help (a refusal): the error to end with, or undefined to try again.
   * Default: always try again.
   */
  giveUp?(error: unknown): Error | undefined;
  /** How long {@linkcode Reconnector.current} waits for the next connection. */
  waitMs: number;
  /** The waits between attempts. Default: a new {@linkcode Backoff}. */
  backoff?: Backoff;
  /** Resolves after `ms`, rejects once `signal` aborts. Default: a timer. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  /** Milliseconds on a monotonic clock. Default `performance.now`. */
  now?(): number;
  /** The connection was lost; reconnecting starts. */
  onLost?(reason: string): void;
  /** Attempt number `attempt` failed; the next starts in `retryInMs`. */
  onAttemptFailed?(error: unknown, attempt: number, retryInMs: number): void;
  /** A new connection replaced the lost one after `attempts` attempts and `downMs`. */
  onRestored?(value: T, attempts: number, downMs: number): void;
}

/**
 * Holds the current connection of type `T` and replaces it when it is lost.
 * Only reconnects: the first connection is the caller's to make (with the
 * same backoff through `connectWithRetries` of ./retry_connect.ts, or once).
 *
 * @example
 * ```ts
 * import { Reconnector } from "./reconnect.ts";
 * import { memoryConnectionPair, type PeerConnection } from "../transport/mod.ts";
 *
 * const dial = () => Promise.resolve(memoryConnectionPair()[0]);
 * const conns = new Reconnector<PeerConnection>(await dial(), {
 *   connect: dial,
 *   lost: (conn) => conn.closed.then((info) => info.reason),
 *   close: (conn, reason) => conn.close({ code: 0, reason }),
 *   waitMs: 10_000,
 * });
 * const conn = await conns.current(); // waits while reconnecting
 * conns.close("done");
 * ```
 */
export class Reconnector<T> {
  readonly #options: ReconnectorOptions<T>;
  readonly #backoff: Backoff;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  readonly #ended = Promise.withResolvers<Error>();
  readonly #closing = Promise.withResolvers<undefined>();
  #value: T | undefined;
  /** Settles with the next connection; rejects when there will be none. */
  #next = settledLater<T>();
  /** Why there will be no connection any more (ended or closed). */
  #stopped: Error | undefined;
  #state: ReconnectorState = "connected";

  /**
   * Starts watching `first` at once.
   * @param first the connection the caller made
   * @param options how to connect again, and what to report
   */
  constructor(first: T, options: ReconnectorOptions<T>) {
    this.#options = options;
    this.#backoff = options.backoff ?? new Backoff();
    this.#sleep = options.sleep ?? abortableSleep;
    this.#now = options.now ?? (() => performance.now());
    this.#value = first;
    this.#keep(first).catch((error) => this.#end(error as Error));
  }

  /** Where it stands now. */
  get state(): ReconnectorState {
    return this.#state;
  }

  /**
   * Settles, with the reason, when reconnecting ended because trying again
   * cannot help. Never settles after {@linkcode Reconnector.close}.
   */
  get ended(): Promise<Error> {
    return this.#ended.promise;
  }

  /** The live connection, or undefined while there is none. */
  peek(): T | undefined {
    return this.#value;
  }

  /**
   * The live connection; while reconnecting, the next one.
   * @throws {Error} when none came within `waitMs`, reconnecting ended (its
   * reason), or it was closed (the reason given to `close`).
   */
  async current(): Promise<T> {
    if (this.#value !== undefined) return this.#value;
    if (this.#stopped) throw this.#stopped;
    const waitMs = this.#options.waitMs;
    const timer = new AbortController();
    try {
      return await Promise.race([
        this.#next.promise,
        this.#sleep(waitMs, timer.signal).then(() => {
          throw new Error(`not reconnected within ${formatSeconds(waitMs)}`);
        }),
      ]);
    } finally {
      timer.abort();
    }
  }

  /** Stops reconnecting and closes the live connection with `reason`. Safe to call twice. */
  close(reason: string): void {
    if (this.#stopped) return;
    this.#stop("closed", new Error(reason));
    this.#abort.abort();
    this.#closing.resolve(undefined);
    if (this.#value !== undefined) this.#options.close(this.#value, reason);
    this.#value = undefined;
  }

  async #keep(first: T): Promise<void> {
    let value = first;
    for (;;) {
      const since = this.#now();
      const reason = await Promise.race([
        this.#options.lost(value).catch((error) => (error as Error).message),
        this.#closing.promise,
      ]);
      if (reason === undefined || this.#stopped) return;
      this.#value = undefined;
      this.#state = "reconnecting";
      this.#next = settledLater<T>();
      if (this.#now() - since >= STABLE_CONNECTION_MS) this.#backoff.reset();
      const lostAt = this.#now();
      this.#options.onLost?.(reason || "closed");
      const restored = await this.#reconnect();
      if (!restored) return;
      value = restored.value;
      this.#value = value;
      this.#state = "connected";
      this.#options.onRestored?.(value, restored.attempts, this.#now() - lostAt);
      this.#next.resolve(value);
    }
  }

  /** Attempts until one works (its value), or until ended or closed (undefined). */
  async #reconnect(): Promise<{ value: T; attempts: number } | undefined> {
    const signal = this.#abort.signal;
    let waitMs = this.#backoff.next();
    for (let attempt = 1;; attempt++) {
      try {
        await this.#sleep(waitMs, signal);
      } catch {
        return undefined; // closed while waiting
      }
      if (this.#stopped) return undefined;
      try {
        const value = await this.#options.connect(signal);
        // Closed while connecting (TypeScript cannot know `#stopped` changed during the await).
        const stopped = this.#stopped as Error | undefined;
        if (stopped) {
          this.#options.close(value, stopped.message);
          return undefined;
        }
        return { value, attempts: attempt };
      } catch (error) {
        if (this.#stopped) return undefined;
        const fatal = this.#options.giveUp?.(error);
        if (fatal) {
          this.#end(fatal);
          return undefined;
        }
        waitMs = this.#backoff.next();
        this.#options.onAttemptFailed?.(error, attempt, waitMs);
      }
    }
  }

  #end(error: Error): void {
    if (this.#stopped) return;
    this.#stop("ended", error);
    this.#value = undefined;
    this.#ended.resolve(error);
  }

  #stop(state: "ended" | "closed", error: Error): void {
    this.#state = state;
    this.#stopped = error;
    this.#next.reject(error);
  }
}

/** A deferred whose rejection nobody has to observe (no one may be waiting). */
function settledLater<T>(): PromiseWithResolvers<T> {
  const deferred = Promise.withResolvers<T>();
  deferred.promise.catch(() => {});
  return deferred;
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}
