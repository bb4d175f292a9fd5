/**
 * The one ICE failure callers are expected to handle: no candidate pair worked.
 *
 * @module
 */

/** What to tell a user whose peers could not reach each other (the CLI adds its flags). */
const ADVICE =
  "This usually means both sides are behind symmetric NATs (or a carrier-grade NAT), " +
  "or a firewall blocks UDP between them.";

/**
 * Thrown by `IceAgent.connect()` when no candidate pair could be confirmed by
 * both sides within the timeout, or when the candidates cannot form any pair.
 * The message is meant for users and carries no stack-worthy detail; `detail`
 * keeps the specific reason for logs.
 *
 * @example
 * ```ts
 * try {
 *   await agent.connect(remote, { timeoutMs: 30_000 });
 * } catch (error) {
 *   if (error instanceof IceFailedError) console.error(error.message);
 *   else throw error;
 * }
 * ```
 */
export class IceFailedError extends Error {
  /** The specific reason, e.g. "no candidate pair answered within 30000 ms". */
  readonly detail: string;
  /**
   * Whether any candidate pair worked before the time ran out. False when no
   * check ever succeeded: the peer may never have started (a signaling block
   * used too late) as well as be unreachable.
   */
  readonly pathFound: boolean;

  /**
   * Builds the user-facing message from the specific reason and general advice.
   *
   * @param detail The specific reason; it starts the message, the general advice follows.
   * @param options Standard `ErrorOptions` (`cause`), and `pathFound` (default false).
   */
  constructor(detail: string, options?: ErrorOptions & { pathFound?: boolean }) {
    super(`ICE found no working path to the peer (${detail}). ${ADVICE}`, options);
    this.name = "IceFailedError";
    this.detail = detail;
    this.pathFound = options?.pathFound ?? false;
  }
}
