/**
 * One `IceAgent.connect()` attempt: drives werift's connectivity checks, then
 * the READY exchange (`_ready_handshake.ts`) over the chosen path, under a
 * deadline and an abort signal.
 *
 * Which path? The controlling agent decides (RFC 8445): its werift nominated
 * pair. The controlled agent does not trust its own nomination for that,
 * because with several host sockets werift's controlled side can nominate a
 * different pair than the controlling one (both get USE-CANDIDATE under
 * aggressive nomination). It adopts the socket and source address the
 * controlling agent's READY arrived on instead, which is, by construction,
 * the path the controlling agent will send QUIC on.
 *
 * @module
 */

import type { Connection, StunProtocol } from "werift-ice";
import { IceFailedError } from "./ice_failed_error.ts";
import { _encodeReady, type _ReadyMessage } from "./_ready_message.ts";
import {
  _ReadyHandshake,
  type _ReadyHandshakeOptions,
  type _ReadyStep,
} from "./_ready_handshake.ts";
import { type _Address, _sendDatagram } from "./_werift.ts";

/**
 * How often to look for werift's nomination: werift sets `nominated` without
 * emitting an event (and its `connect()` promise can miss the completion, see
 * the module doc of `ice_agent.ts`), so we poll; 10 ms is well below the
 * READY interval and costs one property read.
 */
const POLL_INTERVAL_MS = 10;
/**
 * Pause before checking a failed pair again (werift has already spent ~1.5 s
 * on it): about two checks per second per pair keeps NAT pinholes open and
 * rides out loss without flooding when there are many pairs.
 */
const RECHECK_INTERVAL_MS = 1_000;

/** The path both agents confirmed. */
export interface _ConfirmedPath {
  /** The werift protocol (one socket) the path leaves from. */
  protocol: StunProtocol;
  /** Where this agent sends to. */
  remote: _Address;
  /** This agent's address as the peer sends to it. */
  observed: _Address;
}

/** What a session needs from its agent. */
export interface _SessionContext {
  connection: Connection;
  localUfrag: string;
  remoteUfrag: string;
  /** Number of remote candidates, for the failure message. */
  remoteCandidateCount: number;
  /** Restarts checks on failed pairs (see `_recheckFailedPairs`). */
  recheckFailedPairs(): void;
}

/** Options of one attempt. */
export interface _SessionOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  handshake?: _ReadyHandshakeOptions;
}

/** One connect attempt; settle it with {@linkcode _ConnectSession.result}. */
export class _ConnectSession {
  /** Resolves with the confirmed path; rejects with IceFailedError, the abort reason, or a close error. */
  readonly result: Promise<_ConfirmedPath>;
  readonly #context: _SessionContext;
  readonly #handshake: _ReadyHandshake;
  readonly #signal?: AbortSignal;
  #path: { protocol: StunProtocol; remote: _Address } | undefined;
  #observed: _Address | undefined;
  #resolve!: (path: _ConfirmedPath) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #lastRecheck = performance.now();
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  readonly #onAbort = () => this.cancel(this.#signal?.reason);

  constructor(context: _SessionContext, options: _SessionOptions) {
    this.#context = context;
    this.#handshake = new _ReadyHandshake(options.handshake);
    this.#signal = options.signal;
    this.result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (this.#signal?.aborted) {
      this.cancel(this.#signal.reason);
      return;
    }
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#deadline = setTimeout(
      () => this.cancel(this.#timeoutError(options.timeoutMs)),
      options.timeoutMs,
    );
    this.#poll = setInterval(() => this.#tick(), POLL_INTERVAL_MS);
    // werift's connect() keeps checking until a pair is nominated; its promise is
    // not relied on (we poll `nominated`), only kept from becoming an unhandled rejection.
    context.connection.connect().catch(() => {});
  }

  /** A READY from the peer arrived on `protocol` from `from`. Also called after the session settled. */
  received(protocol: StunProtocol, from: _Address, message: _ReadyMessage): void {
    if (message.recipientUfrag !== this.#context.localUfrag) return;
    if (message.senderUfrag !== this.#context.remoteUfrag) return;
    if (!this.#settled) {
      if (!this.#context.connection.iceControlling) this.#path = { protocol, remote: from };
      this.#observed = message.observed;
    }
    this.#act(this.#handshake.received(message.heardYou, performance.now()));
  }

  /** Ends the attempt with `error` (no effect once settled). */
  cancel(error: unknown): void {
    if (this.#settled) return;
    this.#stop();
    this.#reject(error);
  }

  #tick(): void {
    const now = performance.now();
    const { connection } = this.#context;
    if (!connection.nominated && now - this.#lastRecheck >= RECHECK_INTERVAL_MS) {
      this.#lastRecheck = now;
      this.#context.recheckFailedPairs();
    }
    if (connection.nominated && connection.iceControlling && this.#path === undefined) {
      const pair = connection.nominated;
      this.#path = { protocol: pair.protocol as StunProtocol, remote: pair.remoteAddr };
    }
    // The controlled side also waits for its own nomination: it proves our
    // checks towards the peer got answers, not just that the peer reached us.
    if (connection.nominated && this.#path !== undefined) {
      this.#act(this.#handshake.localReady(now));
    }
    this.#act(this.#handshake.tick(now));
  }

  #act(step: _ReadyStep): void {
    const path = this.#path;
    let sent = Promise.resolve();
    if (step.send && path !== undefined) {
      const datagram = _encodeReady({
        heardYou: step.heardYou,
        senderUfrag: this.#context.localUfrag,
        recipientUfrag: this.#context.remoteUfrag,
        observed: path.remote,
      });
      // A lost READY is repeated by the handshake, so errors need no handling.
      sent = _sendDatagram(path.protocol, datagram, path.remote);
    }
    if (step.done && !this.#settled && path !== undefined && this.#observed !== undefined) {
      this.#stop();
      const confirmed = { protocol: path.protocol, remote: path.remote, observed: this.#observed };
      // Resolve only once the final READY has left: the caller may close the socket next.
      sent.then(() => this.#resolve(confirmed));
    }
  }

  #timeoutError(timeoutMs: number): IceFailedError {
    const count = this.#context.remoteCandidateCount;
    if (this.#context.connection.nominated || this.#handshake.heardPeer) {
      return new IceFailedError(
        `a path was found but the peer did not confirm it within ${timeoutMs} ms`,
        { pathFound: true },
      );
    }
    return new IceFailedError(
      `no connectivity check with the peer's ${count} candidate${
        count === 1 ? "" : "s"
      } succeeded within ${timeoutMs} ms`,
    );
  }

  #stop(): void {
    this.#settled = true;
    clearTimeout(this.#deadline);
    clearInterval(this.#poll);
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}
