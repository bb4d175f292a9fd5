/**
 * One side of a birthday punch as a state machine (sans-IO): it says what to
 * send and when, reads what arrives, and decides the pair. The caller owns
 * the sockets and the clock.
 *
 * - The **sprayer** sits behind the endpoint-dependent NAT: from each of its
 *   sockets it sends a probe to the prober's known public address, so its NAT
 *   opens one mapping per socket (each on a random public port) that admits
 *   packets from exactly that address. It answers a probe that lands with a
 *   reply, and the prober's `chosen` with an `ack`.
 * - The **prober** sits behind the endpoint-independent NAT: from its one
 *   socket (whose public address the sprayer knows) it probes random ports of
 *   the sprayer's public IP. The first reply (or a sprayer's probe that its own
 *   NAT now lets in) names the pair; it repeats `chosen` until the `ack`.
 *
 * Only datagrams with this attempt's token from the peer's public IP count;
 * everything else is ignored. Every send is bounded (see birthday_plan.ts).
 * @module
 */
import {
  BIRTHDAY_PROBE_SPREAD_MS,
  BIRTHDAY_PROBES,
  BIRTHDAY_SOCKETS,
  BIRTHDAY_SPRAY_INTERVAL_MS,
  BIRTHDAY_SPRAY_ROUNDS,
  BIRTHDAY_TIMEOUT_MS,
  planProbes,
  type ProbePlan,
  type RandomSource,
} from "./birthday_plan.ts";
import { type BirthdayKind, decodeBirthday, encodeBirthday } from "./birthday_message.ts";

/** The prober repeats `chosen` this often until the ack... */
export const BIRTHDAY_CONFIRM_INTERVAL_MS = 100;
/** ...this many times at most. */
export const BIRTHDAY_MAX_CONFIRMS = 20;
/** Replies and acks the sprayer sends at most (a peer cannot make it send more). */
export const BIRTHDAY_MAX_ANSWERS = 64;
/** The sprayer keeps the chosen socket this long after its ack, to ack a repeated `chosen`. */
export const BIRTHDAY_LINGER_MS = 300;

/** A UDP address. */
export interface BirthdayAddress {
  /** Literal IPv4 address. */
  address: string;
  /** UDP port. */
  port: number;
}

/** A datagram to send from one of the side's sockets. */
export interface BirthdaySend {
  /** Index of the socket to send from (the prober has only socket 0). */
  socket: number;
  /** Destination. */
  to: BirthdayAddress;
  /** Payload. */
  data: Uint8Array;
}

/** Options of a {@linkcode BirthdaySession}. */
export interface BirthdaySessionOptions {
  /** Which side this is. */
  role: "prober" | "sprayer";
  /** The attempt's token (see `birthdayToken`). */
  token: Uint8Array;
  /**
   * Prober: the sprayer's public IP (the port is not used). Sprayer: the
   * prober's public address, where every socket sends.
   */
  peer: BirthdayAddress;
  /** Sprayer: sockets (1..{@linkcode BIRTHDAY_SOCKETS}). Prober: always 1. */
  sockets?: number;
  /** Prober: probes (1..{@linkcode BIRTHDAY_PROBES}). */
  probes?: number;
  /** Prober: the probes' spread (default {@linkcode BIRTHDAY_PROBE_SPREAD_MS}). */
  spreadMs?: number;
  /** The attempt's time limit (default {@linkcode BIRTHDAY_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Port choice (default: the CSPRNG; tests seed it). */
  random: RandomSource;
}

/** The pair both sides agreed on. */
export interface BirthdayPair {
  /** The socket of this side that carries the path. */
  socket: number;
  /** The peer's address as seen from that socket. */
  remote: BirthdayAddress;
}

/** Where the attempt stands. */
export type BirthdayState = "punching" | "confirming" | "lingering" | "done" | "failed";

/** One side's birthday punch, fed with the time and received datagrams. */
export class BirthdaySession {
  /** The options' role. */
  readonly role: "prober" | "sprayer";
  /** Sockets this side needs. */
  readonly sockets: number;
  readonly #token: Uint8Array;
  readonly #peer: BirthdayAddress;
  readonly #timeoutMs: number;
  readonly #plan: ProbePlan | undefined;
  readonly #spreadMs: number;
  #start: number | undefined;
  #state: BirthdayState = "punching";
  #pair: BirthdayPair | undefined;
  #probesSent = 0;
  #sprayRounds = 0;
  #confirms = 0;
  #lastConfirm = 0;
  #answers = 0;
  #lingerUntil = 0;
  #sent = 0;

  /**
   * Starts nothing yet: the first `poll` or `receive` starts the clock.
   * @throws {RangeError} when a count or the timeout is out of its bound.
   */
  constructor(options: BirthdaySessionOptions) {
    this.role = options.role;
    this.#token = options.token;
    this.#peer = options.peer;
    this.#timeoutMs = options.timeoutMs ?? BIRTHDAY_TIMEOUT_MS;
    if (!(this.#timeoutMs > 0) || this.#timeoutMs > BIRTHDAY_TIMEOUT_MS) {
      throw new RangeError(`Cannot punch: timeoutMs must be in (0, ${BIRTHDAY_TIMEOUT_MS}]`);
    }
    this.#spreadMs = options.spreadMs ?? BIRTHDAY_PROBE_SPREAD_MS;
    if (options.role === "prober") {
      this.sockets = 1;
      this.#plan = planProbes(options.probes ?? BIRTHDAY_PROBES, this.#spreadMs, options.random);
    } else {
      const sockets = options.sockets ?? BIRTHDAY_SOCKETS;
      if (!Number.isInteger(sockets) || sockets < 1 || sockets > BIRTHDAY_SOCKETS) {
        throw new RangeError(
          `Cannot punch: sockets must be 1..${BIRTHDAY_SOCKETS}, got ${sockets}`,
        );
      }
      this.sockets = sockets;
    }
  }

  /** Where the attempt stands. */
  get state(): BirthdayState {
    return this.#state;
  }

  /** The agreed pair once `state` is "done". */
  get pair(): BirthdayPair | undefined {
    return this.#state === "done" ? this.#pair : undefined;
  }

  /** Datagrams this side has sent so far (for the budget tests). */
  get sent(): number {
    return this.#sent;
  }

  /** Why the attempt failed, once `state` is "failed". */
  get failure(): string | undefined {
    if (this.#state !== "failed") return undefined;
    return this.role === "prober"
      ? `no reply to ${this.#probesSent} probes within ${this.#timeoutMs} ms`
      : `no probe reached any of ${this.sockets} sockets within ${this.#timeoutMs} ms`;
  }

  /** What is due at `now` (ms, any monotonic origin; the first call starts the attempt). */
  poll(now: number): BirthdaySend[] {
    this.#start ??= now;
    const elapsed = now - this.#start;
    const sends: BirthdaySend[] = [];
    if (this.#state === "lingering" && now >= this.#lingerUntil) this.#state = "done";
    if (this.#state === "done" || this.#state === "failed") return sends;
    if (elapsed >= this.#timeoutMs && this.#state !== "lingering") {
      this.#state = "failed";
      return sends;
    }
    if (this.#state === "punching" && this.#plan) {
      const due = this.#plan.dueBy(elapsed);
      while (this.#probesSent < due) {
        const port = this.#plan.ports[this.#probesSent++];
        sends.push(this.#send(0, { address: this.#peer.address, port }, "probe"));
      }
    }
    if (this.#state === "punching" && !this.#plan) {
      while (
        this.#sprayRounds < BIRTHDAY_SPRAY_ROUNDS &&
        elapsed >= this.#sprayRounds * BIRTHDAY_SPRAY_INTERVAL_MS
      ) {
        this.#sprayRounds++;
        for (let socket = 0; socket < this.sockets; socket++) {
          sends.push(this.#send(socket, this.#peer, "probe"));
        }
      }
    }
    if (
      this.#state === "confirming" && this.#confirms < BIRTHDAY_MAX_CONFIRMS &&
      now - this.#lastConfirm >= BIRTHDAY_CONFIRM_INTERVAL_MS
    ) {
      sends.push(this.#confirm(now));
    }
    return sends;
  }

  /** When `poll` next has something to do (ms, same origin as `now`). */
  nextWake(now: number): number {
    const start = this.#start ?? now;
    const deadline = start + this.#timeoutMs;
    if (this.#state === "lingering") return this.#lingerUntil;
    if (this.#state === "confirming") {
      if (this.#confirms >= BIRTHDAY_MAX_CONFIRMS) return deadline;
      return Math.min(deadline, this.#lastConfirm + BIRTHDAY_CONFIRM_INTERVAL_MS);
    }
    if (this.#state !== "punching") return now;
    if (this.#plan) {
      if (this.#probesSent >= this.#plan.ports.length) return deadline;
      const gap = this.#spreadMs / this.#plan.ports.length;
      return Math.min(deadline, start + this.#probesSent * gap);
    }
    if (this.#sprayRounds >= BIRTHDAY_SPRAY_ROUNDS) return deadline;
    return Math.min(deadline, start + this.#sprayRounds * BIRTHDAY_SPRAY_INTERVAL_MS);
  }

  /** Reads a datagram that arrived on `socket` from `from`; returns what to send back. */
  receive(now: number, socket: number, from: BirthdayAddress, data: Uint8Array): BirthdaySend[] {
    this.#start ??= now;
    if (this.#state === "done" || this.#state === "failed") return [];
    if (from.address !== this.#peer.address || socket < 0 || socket >= this.sockets) return [];
    const kind = decodeBirthday(data, this.#token);
    if (!kind) return [];
    return this.role === "prober"
      ? this.#proberReceives(now, from, kind)
      : this.#sprayerReceives(now, socket, from, kind);
  }

  #proberReceives(now: number, from: BirthdayAddress, kind: BirthdayKind): BirthdaySend[] {
    if (this.#state === "punching" && (kind === "reply" || kind === "probe")) {
      this.#pair = { socket: 0, remote: { ...from } };
      this.#state = "confirming";
      return [this.#confirm(now)];
    }
    if (this.#state === "confirming" && kind === "ack" && this.#isPairRemote(from)) {
      this.#state = "done";
    }
    return [];
  }

  #sprayerReceives(
    now: number,
    socket: number,
    from: BirthdayAddress,
    kind: BirthdayKind,
  ): BirthdaySend[] {
    if (this.#answers >= BIRTHDAY_MAX_ANSWERS) return [];
    if (kind === "probe" && this.#state === "punching") {
      return [this.#answer(socket, from, "reply")];
    }
    if (kind !== "chosen") return [];
    if (this.#state === "punching") {
      this.#pair = { socket, remote: { ...from } };
      this.#state = "lingering";
      this.#lingerUntil = now + BIRTHDAY_LINGER_MS;
      return [this.#answer(socket, from, "ack")];
    }
    if (this.#state === "lingering" && socket === this.#pair!.socket && this.#isPairRemote(from)) {
      return [this.#answer(socket, from, "ack")];
    }
    return [];
  }

  #isPairRemote(from: BirthdayAddress): boolean {
    return this.#pair!.remote.address === from.address && this.#pair!.remote.port === from.port;
  }

  #confirm(now: number): BirthdaySend {
    this.#confirms++;
    this.#lastConfirm = now;
    return this.#send(0, this.#pair!.remote, "chosen");
  }

  #answer(socket: number, to: BirthdayAddress, kind: BirthdayKind): BirthdaySend {
    this.#answers++;
    return this.#send(socket, to, kind);
  }

  #send(socket: number, to: BirthdayAddress, kind: BirthdayKind): BirthdaySend {
    this.#sent++;
    return { socket, to: { ...to }, data: encodeBirthday(kind, this.#token) };
  }
}
