/**
 * The stripes of one forwarded TCP connection: its first stream and the ones
 * that join it later, by index.
 * @module
 */
import type { DuplexStream } from "../transport/mod.ts";
import { ProtocolError } from "./messages.ts";
import { MAX_STRIPES } from "./segments.ts";

/** A stripe that has not arrived this long after a segment named it is a broken peer. */
export const STRIPE_WAIT_MS = 10_000;

/**
 * Stripes by index, 0 being the connection's first stream. Readers wait for a
 * stripe a segment named; writers learn of each stripe as it joins.
 */
export class StripeSet {
  readonly #stripes: (DuplexStream | undefined)[] = [];
  readonly #prefixes: (Uint8Array | undefined)[] = [];
  readonly #waiting = new Map<number, ((stripe: DuplexStream | undefined) => void)[]>();
  readonly #joined: ((index: number, stripe: DuplexStream) => void)[] = [];
  #closed = false;

  /** A set holding `first` as stripe 0. */
  constructor(first: DuplexStream) {
    this.#stripes[0] = first;
  }

  /** Stripes held, by index (gaps are stripes not yet joined). */
  get stripes(): readonly (DuplexStream | undefined)[] {
    return this.#stripes;
  }

  /** Bytes of stripe `index` read past its header, to be read before the stream's own. */
  prefixOf(index: number): Uint8Array | undefined {
    return this.#prefixes[index];
  }

  /**
   * Adds stripe `index`, whose first bytes (read past its header) are `prefix`.
   * Once the set is closed the stripe is refused (returns false) and the caller drops it.
   * @throws {ProtocolError} when `index` is out of range or already taken.
   */
  add(index: number, stripe: DuplexStream, prefix?: Uint8Array): boolean {
    if (!Number.isInteger(index) || index < 1 || index >= MAX_STRIPES) {
      throw new ProtocolError(`stripe index ${index} (1 to ${MAX_STRIPES - 1})`);
    }
    if (this.#stripes[index]) throw new ProtocolError(`stripe ${index} joined twice`);
    if (this.#closed) return false;
    this.#stripes[index] = stripe;
    this.#prefixes[index] = prefix;
    for (const resolve of this.#waiting.get(index) ?? []) resolve(stripe);
    this.#waiting.delete(index);
    for (const listener of this.#joined) listener(index, stripe);
    return true;
  }

  /** Calls `listener` for each stripe that joins from now on. */
  onJoin(listener: (index: number, stripe: DuplexStream) => void): void {
    this.#joined.push(listener);
  }

  /**
   * Stripe `index`, waiting up to `timeoutMs` for it to join.
   * @throws {ProtocolError} when it does not join in time, or the set closes first.
   */
  async get(index: number, timeoutMs = STRIPE_WAIT_MS): Promise<DuplexStream> {
    const held = this.#stripes[index];
    if (held) return held;
    if (this.#closed) throw new ProtocolError(`stripe ${index} never joined`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stripe = await new Promise<DuplexStream | undefined>((resolve) => {
      const list = this.#waiting.get(index) ?? [];
      list.push(resolve);
      this.#waiting.set(index, list);
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    }).finally(() => clearTimeout(timer));
    if (!stripe) throw new ProtocolError(`stripe ${index} did not join within ${timeoutMs} ms`);
    return stripe;
  }

  /** Refuses stripes from now on and fails whoever waits for one. */
  close(): void {
    this.#closed = true;
    for (const list of this.#waiting.values()) for (const resolve of list) resolve(undefined);
    this.#waiting.clear();
  }
}
