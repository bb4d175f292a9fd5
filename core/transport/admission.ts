/**
 * Caps on work a peer can make a listener do before it has proved anything: a
 * total and a per-address count of connections in some early stage (handshake,
 * authentication). Sans-IO: the caller says when a stage starts and ends.
 * Addresses are counted by their {@linkcode addressGroup} (IPv4-mapped IPv6 as
 * IPv4, IPv6 by its /64).
 * @module
 */
import { addressGroup } from "../net/mod.ts";

/** Why {@linkcode AdmissionLimit.tryAdmit} said no. */
export type AdmissionRefusal = "total" | "per-address";

/** Limits for one {@linkcode AdmissionLimit}. */
export interface AdmissionLimits {
  /** Connections in the stage at once, from everywhere. */
  total: number;
  /** Connections in the stage at once from one IP address (IPv6: one /64). */
  perAddress: number;
}

/** Counts connections in one stage, in total and per source address. */
export class AdmissionLimit {
  /** The limits this instance enforces. */
  readonly limits: AdmissionLimits;
  readonly #byAddress = new Map<string, number>();
  #total = 0;

  /**
   * Starts with nothing admitted.
   * @throws {RangeError} unless both limits are positive integers.
   */
  constructor(limits: AdmissionLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(
          `Invalid admission limit ${name}=${value}: must be a positive integer`,
        );
      }
    }
    this.limits = { ...limits };
  }

  /** Connections now in the stage. */
  get total(): number {
    return this.#total;
  }

  /** Connections now in the stage from `address`. */
  countFor(address: string): number {
    return this.#byAddress.get(addressGroup(address)) ?? 0;
  }

  /**
   * Admits one connection from `address` into the stage, or says which limit
   * refuses it. Every admission must be paired with one {@linkcode release}.
   */
  tryAdmit(address: string): AdmissionRefusal | undefined {
    const key = addressGroup(address);
    const count = this.#byAddress.get(key) ?? 0;
    if (this.#total >= this.limits.total) return "total";
    if (count >= this.limits.perAddress) return "per-address";
    this.#total++;
    this.#byAddress.set(key, count + 1);
    return undefined;
  }

  /** Ends the stage for one connection from `address`. */
  release(address: string): void {
    const key = addressGroup(address);
    const count = this.#byAddress.get(key);
    if (count === undefined) return;
    this.#total--;
    if (count <= 1) this.#byAddress.delete(key);
    else this.#byAddress.set(key, count - 1);
  }
}
