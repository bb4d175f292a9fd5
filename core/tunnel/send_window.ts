/**
 * Sends that may run at once: a loop that forwards datagrams starts each send
 * and goes on receiving, instead of waiting for every send to finish, and
 * waits only when `limit` sends are unfinished. Awaiting each send cost one
 * round trip through Deno's op machinery per datagram, halving the rate.
 * @module
 */

/**
 * UDP sends a forwarding loop lets run at once. 64 datagrams of 1,500 bytes is
 * under 100 KB, well inside a socket's send buffer, and enough that the loop
 * never waits on a busy path.
 */
export const UDP_SENDS_IN_FLIGHT = 64;

/** A bound on unfinished sends. */
export class SendWindow {
  /** Sends that may be unfinished at once. */
  readonly limit: number;
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];

  /**
   * @param limit sends that may run at once (at least 1)
   * @throws {RangeError} when `limit` is not a positive integer
   */
  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Cannot make a send window of ${limit}: must be a positive integer`);
    }
    this.limit = limit;
  }

  /** Sends unfinished now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Counts `send` until it settles (its failure is the caller's to handle).
   * @returns undefined while under the limit, else a promise that settles once
   * a send has finished and there is room again
   */
  add(send: Promise<unknown>): Promise<void> | undefined {
    this.#inFlight++;
    const done = () => {
      this.#inFlight--;
      this.#waiting.shift()?.();
    };
    send.then(done, done);
    if (this.#inFlight < this.limit) return undefined;
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}
