/**
 * Access tokens of an HTTP service (the relay's `/relay` and `/pkarr`): free-form
 * secrets a request presents as `Authorization: Bearer <token>` or, as iroh's
 * relay also takes them, `?token=<token>`.
 * @module
 */
import { constantTimeEqual } from "./token_set.ts";

const encoder = new TextEncoder();

/** The tokens a service accepts; an empty set admits every request. */
export class BearerTokenSet {
  readonly #tokens: Uint8Array[];

  /** Holds `tokens` as given (no format is imposed: operators choose them). */
  constructor(tokens: Iterable<string> = []) {
    this.#tokens = [...new Set(tokens)].map((token) => encoder.encode(token));
  }

  /** Whether any token is configured, i.e. whether requests must present one. */
  get required(): boolean {
    return this.#tokens.length > 0;
  }

  /**
   * Whether `request` presents one of the tokens. Every token is compared in
   * full, so timing tells neither which one matched nor how much of one.
   */
  presentedBy(request: Request): boolean {
    const header = request.headers.get("authorization");
    const presented = header?.match(/^Bearer\s+(\S+)$/i)?.[1] ??
      new URL(request.url).searchParams.get("token");
    if (!presented) return false;
    const candidate = encoder.encode(presented);
    let found = false;
    for (const token of this.#tokens) found = constantTimeEqual(token, candidate) || found;
    return found;
  }
}
