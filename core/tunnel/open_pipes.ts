/**
 * A session's open TCP connections by the id the client gave them, for the
 * stripes that join them.
 * @module
 */
import type { StripeSet } from "./stripe_set.ts";

/**
 * Stripes that may wait at once for their connection's TcpOpen in one session:
 * three for each of the 256 connections a session may hold.
 */
export const MAX_WAITING_STRIPES = 768;

/**
 * Open connections by id. A stripe may arrive before its connection's TcpOpen:
 * they travel on different streams, and a lost datagram delays one stream and
 * not the other. So a stripe of an id not yet open waits for it, bounded in time
 * and in number.
 */
export class OpenPipes {
  readonly #open = new Map<number, StripeSet>();
  readonly #waiting = new Map<number, Set<(set: StripeSet | undefined) => void>>();
  #waiters = 0;
  readonly #maxWaiting: number;

  /** A directory that lets at most `maxWaiting` stripes wait for their connection. */
  constructor(maxWaiting = MAX_WAITING_STRIPES) {
    this.#maxWaiting = maxWaiting;
  }

  /** Stripes waiting now for a connection to open. */
  get waiting(): number {
    return this.#waiters;
  }

  /** Records connection `id`; false when that id is already open. Wakes its waiting stripes. */
  open(id: number, stripes: StripeSet): boolean {
    if (this.#open.has(id)) return false;
    this.#open.set(id, stripes);
    for (const wake of this.#waiting.get(id) ?? []) wake(stripes);
    this.#waiting.delete(id);
    return true;
  }

  /** Forgets connection `id` (it ended). */
  close(id: number): void {
    this.#open.delete(id);
  }

  /**
   * Connection `id`'s stripes, waiting up to `timeoutMs` for it to open.
   * Undefined when it does not open in time, or when as many stripes as allowed
   * are waiting already.
   */
  async find(id: number, timeoutMs: number): Promise<StripeSet | undefined> {
    const open = this.#open.get(id);
    if (open) return open;
    if (this.#waiters >= this.#maxWaiting || timeoutMs <= 0) return undefined;
    this.#waiters++;
    let wake!: (set: StripeSet | undefined) => void;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const found = new Promise<StripeSet | undefined>((resolve) => {
      wake = resolve;
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const list = this.#waiting.get(id) ?? new Set();
    list.add(wake);
    this.#waiting.set(id, list);
    try {
      return await found;
    } finally {
      clearTimeout(timer);
      this.#waiters--;
      list.delete(wake);
      if (list.size === 0 && this.#waiting.get(id) === list) this.#waiting.delete(id);
    }
  }

  /** Fails every waiting stripe (the session is ending). */
  closeAll(): void {
    for (const list of this.#waiting.values()) for (const wake of list) wake(undefined);
    this.#waiting.clear();
    this.#open.clear();
  }
}
