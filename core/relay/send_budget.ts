/**
 * What a relay lets its peers make it queue for sending (sans-IO: the caller
 * says when bytes are queued and when they have left). Two kinds of bytes wait
 * in a client's send queue:
 *
 * - datagrams (and the relay's notices about peers): dropped, not queued, once
 *   the client has {@linkcode SendBudgetLimits.datagramsPerClient} waiting or
 *   every client together {@linkcode SendBudgetLimits.datagramsTotal}: a slow
 *   reader loses packets, as over any congested path;
 * - answers the client asked for itself (WebSocket Pongs, relay Pongs): a
 *   client that asks for more than {@linkcode SendBudgetLimits.answersPerClient}
 *   without reading them is not reading, and is closed. Without this cap one
 *   client sending Pings and never reading grew the relay by 2 GiB in 6 s.
 *
 * Everything else the relay sends a client is its own doing and bounded by it
 * (one challenge, one answer to the handshake, one ping outstanding).
 * @module
 */

/** The caps of a {@linkcode SendBudget}. */
export interface SendBudgetLimits {
  /** Bytes waiting for one client beyond which datagrams to it are dropped. */
  datagramsPerClient: number;
  /** Bytes waiting for all clients together beyond which datagrams are dropped. */
  datagramsTotal: number;
  /** Bytes of answers (pongs) waiting for one client beyond which it is closed. */
  answersPerClient: number;
}

/**
 * The relay's caps. Per client, 2 MiB: iroh keeps 512 frames, about as many
 * full ones, and a few hundred QUIC packets are as much as any congestion
 * window needs. In total, 256 MiB: at 10,000 clients, 2 MiB each would be 20
 * GiB. Answers, 8 KiB: 64 WebSocket Pongs of the largest kind, ~680 relay Pongs;
 * a client pings every 15 s.
 */
export const DEFAULT_SEND_BUDGET: Readonly<SendBudgetLimits> = Object.freeze({
  datagramsPerClient: 2 << 20,
  datagramsTotal: 256 << 20,
  answersPerClient: 8 << 10,
});

/** Why a datagram was not queued. */
export type DatagramRefusal = "client-full" | "relay-full";

/** Bytes waiting to be sent, per client and for the whole relay. */
export class SendBudget {
  /** The caps enforced. */
  readonly limits: Readonly<SendBudgetLimits>;
  #queued = 0;

  /**
   * Starts with nothing queued.
   * @throws {RangeError} unless every cap is a positive integer.
   */
  constructor(limits: SendBudgetLimits = DEFAULT_SEND_BUDGET) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`Invalid send budget ${name}=${value}: must be a positive integer`);
      }
    }
    this.limits = Object.freeze({ ...limits });
  }

  /** Bytes waiting for every client together. */
  get queued(): number {
    return this.#queued;
  }

  /** The budget of one new client, whose bytes count toward this one's total. */
  client(): ClientSendBudget {
    return new ClientSendBudget(this, (delta) => this.#queued += delta);
  }
}

/**
 * One client's bytes waiting to be sent. Each byte queued must be reported
 * sent once (or the client released); a byte reported after
 * {@linkcode ClientSendBudget.release} is ignored.
 */
export class ClientSendBudget {
  readonly #relay: SendBudget;
  readonly #addToTotal: (delta: number) => void;
  #queued = 0;
  #answers = 0;
  #released = false;

  /** Use {@linkcode SendBudget.client}. */
  constructor(relay: SendBudget, addToTotal: (delta: number) => void) {
    this.#relay = relay;
    this.#addToTotal = addToTotal;
  }

  /** Bytes waiting for this client, answers included. */
  get queued(): number {
    return this.#queued;
  }

  /** Bytes of answers waiting for this client. */
  get answers(): number {
    return this.#answers;
  }

  /**
   * Whether a datagram may be queued now; checked before it is, so a queue
   * ends at most one message over its cap.
   */
  datagramRefusal(): DatagramRefusal | undefined {
    const { datagramsPerClient, datagramsTotal } = this.#relay.limits;
    if (this.#queued > datagramsPerClient) return "client-full";
    if (this.#relay.queued > datagramsTotal) return "relay-full";
    return undefined;
  }

  /** Whether an answer of `bytes` fits the client's answer budget. */
  answerFits(bytes: number): boolean {
    return this.#answers + bytes <= this.#relay.limits.answersPerClient;
  }

  /** Records `bytes` queued; `answer` when they answer the client's own request. */
  queue(bytes: number, answer = false): void {
    if (this.#released) return;
    this.#queued += bytes;
    if (answer) this.#answers += bytes;
    this.#addToTotal(bytes);
  }

  /** Records `bytes` queued earlier as gone (sent, or discarded with the connection). */
  sent(bytes: number, answer = false): void {
    if (this.#released) return;
    this.#queued -= bytes;
    if (answer) this.#answers -= bytes;
    this.#addToTotal(-bytes);
  }

  /** The connection is gone: what it still had queued leaves the total. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#addToTotal(-this.#queued);
    this.#queued = 0;
    this.#answers = 0;
  }
}
