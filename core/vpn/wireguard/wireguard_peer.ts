/**
 * A WireGuard session with ONE remote peer as a sans-IO state machine:
 * messages and time in, messages and IP packets out. It follows the
 * WireGuard paper and wireguard-go: handshake on demand, retransmission,
 * rekeying, keepalives, current/previous/next keypairs (a responder sends
 * with a new session only once the initiator used it), cookie replies under
 * load. `WireGuardLink` drives it over a `PacketPath`.
 *
 * Timers are deadlines in the injected clock; nothing runs by itself: call
 * {@link WireGuardPeer.tick} at {@link WireGuardPeer.nextDeadline}.
 * @module
 */
import { CookieChecker, CookieGenerator } from "./cookie.ts";
import { Handshake, type SessionKeys } from "./handshake.ts";
import { Keypair } from "./keypair.ts";
import {
  COOKIE_REPLY_SIZE,
  decodeTransportHeader,
  INITIATION_SIZE,
  MESSAGE_COOKIE_REPLY,
  MESSAGE_INITIATION,
  MESSAGE_RESPONSE,
  MESSAGE_TRANSPORT,
  messageType,
  RESPONSE_SIZE,
} from "./messages.ts";
import { equalBytes, publicKeyOf } from "./noise_primitives.ts";
import {
  KEEPALIVE_TIMEOUT,
  MAX_HANDSHAKE_ATTEMPTS,
  MAX_QUEUED_PACKETS,
  REJECT_AFTER_MESSAGES,
  REJECT_AFTER_TIME,
  REKEY_AFTER_MESSAGES,
  REKEY_AFTER_TIME,
  REKEY_TIMEOUT,
  REKEY_TIMEOUT_JITTER_MAX,
  UNDER_LOAD_AFTER,
  UNDER_LOAD_HANDSHAKES_PER_SECOND,
  ZERO_KEYS_AFTER,
} from "./timers.ts";

/** Configuration of a {@link WireGuardPeer}. */
export interface WireGuardPeerOptions {
  /** Our static X25519 private key (32 bytes). */
  privateKey: Uint8Array;
  /** The peer's static public key (32 bytes); initiations from any other key are refused. */
  peerPublicKey: Uint8Array;
  /** Optional 32-byte preshared key (WireGuard's PresharedKey); zeros when absent. */
  presharedKey?: Uint8Array;
  /** Send a keepalive after this many seconds without sending anything (0 or absent: off). */
  persistentKeepaliveSeconds?: number;
  /** Pad packets to 16 bytes but not beyond this (the tunnel's MTU). Default: always to 16. */
  mtu?: number;
  /** Monotonic clock in milliseconds. Default: `performance.now()`. */
  now?: () => number;
  /** Fills bytes with randomness (indices, jitter, cookies). Default: `crypto.getRandomValues`. */
  random?: (bytes: Uint8Array) => void;
  /** Wall clock in ms since 1970 for TAI64N timestamps. Default: `Date.now()` at start plus `now()`'s progress. */
  wallClock?: () => number;
}

/** What {@link WireGuardPeer.receive} produced. */
export interface ReceiveResult {
  /** Messages to send back to the peer (responses, cookie replies, keepalives, queued data). */
  reply: Uint8Array[];
  /** Decrypted IP packets, padding removed (keepalives are not packets). */
  packets: Uint8Array[];
}

/** Counters of a {@link WireGuardPeer}. Messages counted are whole WireGuard messages. */
export interface WireGuardPeerStats {
  /** Bytes of all messages sent. */
  bytesSent: number;
  /** Bytes of all messages received (accepted or not). */
  bytesReceived: number;
  /** IP packets sealed (keepalives excluded). */
  packetsSent: number;
  /** IP packets delivered (keepalives excluded). */
  packetsReceived: number;
  /** Sessions derived (as initiator or responder). */
  handshakes: number;
  /** When the last handshake completed, in the peer's clock; undefined before the first. */
  lastHandshakeAt: number | undefined;
  /** Initiations sent (first tries and retries). */
  initiationsSent: number;
  /** Cookie replies sent while under load. */
  cookieRepliesSent: number;
  /** Valid cookie replies taken from the peer. */
  cookieRepliesReceived: number;
  /** Messages dropped, by reason. */
  dropped: {
    /** Not a WireGuard message, wrong size, or a non-IP payload. */
    malformed: number;
    /** Bad mac1, failed decryption, unknown session index. */
    unauthenticated: number;
    /** Transport copies and stale counters, replayed initiations. */
    replayed: number;
    /** Handshakes refused for a wrong static key, a flood, or an unexpected state. */
    refusedHandshakes: number;
    /** Transport messages for a session past its lifetime. */
    expired: number;
    /** Queued packets dropped: queue full, or the handshake gave up. */
    queued: number;
  };
}

const NO_SOURCE = new Uint8Array(0);
const EMPTY = new Uint8Array(0);

/** A WireGuard session with one remote peer (sans-IO). */
export class WireGuardPeer {
  readonly #now: () => number;
  readonly #random: (bytes: Uint8Array) => void;
  readonly #mtu: number;
  readonly #persistentKeepalive: number;
  readonly #handshake: Handshake;
  readonly #checker: CookieChecker;
  readonly #generator: CookieGenerator;
  #current: Keypair | undefined;
  #previous: Keypair | undefined;
  #next: Keypair | undefined;
  #queue: Uint8Array[] = [];
  #out: Uint8Array[] = [];
  // Deadlines in the injected clock; undefined when not armed.
  #retransmitAt: number | undefined;
  #sendKeepaliveAt: number | undefined;
  #newHandshakeAt: number | undefined;
  #zeroKeysAt: number | undefined;
  #persistentKeepaliveAt: number | undefined;
  #handshakeAttempts = 0;
  #needAnotherKeepalive = false;
  #sentLastMinuteHandshake = false;
  #lastInitiationSentAt = -Infinity;
  // Arrival times of the last handshake messages, a ring, for the load test.
  readonly #arrivals = new Array<number>(UNDER_LOAD_HANDSHAKES_PER_SECOND).fill(-Infinity);
  #arrivalIndex = 0;
  #underLoadUntil = -Infinity;
  readonly #stats: WireGuardPeerStats = {
    bytesSent: 0,
    bytesReceived: 0,
    packetsSent: 0,
    packetsReceived: 0,
    handshakes: 0,
    lastHandshakeAt: undefined,
    initiationsSent: 0,
    cookieRepliesSent: 0,
    cookieRepliesReceived: 0,
    dropped: {
      malformed: 0,
      unauthenticated: 0,
      replayed: 0,
      refusedHandshakes: 0,
      expired: 0,
      queued: 0,
    },
  };

  /**
   * A peer with no session yet; the first `send()` (or the persistent
   * keepalive) starts the handshake.
   * @throws {RangeError} for keys that are not 32 bytes, or a peer key equal to our own.
   */
  constructor(options: WireGuardPeerOptions) {
    const now = options.now ?? (() => performance.now());
    this.#now = now;
    this.#random = options.random ?? ((bytes) => crypto.getRandomValues(bytes));
    this.#mtu = options.mtu ?? Infinity;
    this.#persistentKeepalive = (options.persistentKeepaliveSeconds ?? 0) * 1000;
    const started = now();
    const startedWall = Date.now();
    this.#handshake = new Handshake({
      privateKey: options.privateKey,
      peerPublicKey: options.peerPublicKey,
      presharedKey: options.presharedKey,
      now,
      wallClock: options.wallClock ?? (() => startedWall + (now() - started)),
    });
    const publicKey = publicKeyOf(options.privateKey);
    if (equalBytes(publicKey, options.peerPublicKey)) {
      throw new RangeError(
        "Cannot set up WireGuard: the peer's public key is our own; give the remote peer's key",
      );
    }
    this.#checker = new CookieChecker(publicKey, { now, random: this.#random });
    this.#generator = new CookieGenerator(options.peerPublicKey, { now });
    // A persistent keepalive also brings the session up right away, as in wireguard-go.
    if (this.#persistentKeepalive > 0) this.#persistentKeepaliveAt = started;
  }

  /** Live counters (read only). */
  get stats(): Readonly<WireGuardPeerStats> {
    return this.#stats;
  }

  /** The peer's clock, in which {@link nextDeadline} is expressed. */
  clock(): number {
    return this.#now();
  }

  /** Whether a session can send now (false: packets are queued behind a handshake). */
  get hasSession(): boolean {
    return this.#canSend(this.#current);
  }

  /**
   * Seals IP packets for the peer. Without a usable session they are queued
   * (at most {@link MAX_QUEUED_PACKETS}, oldest dropped first) and a
   * handshake starts.
   * @returns messages to send to the peer.
   */
  send(ipPackets: readonly Uint8Array[]): Uint8Array[] {
    if (this.#queue.length === 0 && this.#canSend(this.#current)) {
      this.#seal(ipPackets);
    } else {
      for (const packet of ipPackets) this.#enqueue(packet);
      this.#flush();
    }
    return this.#drain();
  }

  /**
   * Takes one message from the peer. Never throws: garbage, forgeries and
   * replays are counted in {@link stats} and dropped.
   * @param source The sender's address as bytes, for cookies; leave it out on
   * a path that reaches only this peer.
   */
  receive(message: Uint8Array, source: Uint8Array = NO_SOURCE): ReceiveResult {
    const packets: Uint8Array[] = [];
    this.#stats.bytesReceived += message.length;
    try {
      switch (messageType(message)) {
        case MESSAGE_INITIATION:
          this.#receiveInitiation(message, source);
          break;
        case MESSAGE_RESPONSE:
          this.#receiveResponse(message, source);
          break;
        case MESSAGE_COOKIE_REPLY:
          this.#receiveCookieReply(message);
          break;
        case MESSAGE_TRANSPORT:
          this.#receiveTransport(message, packets);
          break;
        default:
          this.#stats.dropped.malformed++;
      }
    } catch {
      // Decoders throw on malformed input; the checks above make that rare.
      this.#stats.dropped.malformed++;
    }
    return { reply: this.#drain(), packets };
  }

  /** Runs the timers that are due: retransmissions, keepalives, rekeying, zeroing. */
  tick(): Uint8Array[] {
    const now = this.#now();
    if (this.#retransmitAt !== undefined && this.#retransmitAt <= now) {
      this.#retransmitAt = undefined;
      this.#expiredRetransmit(now);
    }
    if (this.#sendKeepaliveAt !== undefined && this.#sendKeepaliveAt <= now) {
      this.#sendKeepaliveAt = undefined;
      this.#sendKeepalive();
      if (this.#needAnotherKeepalive) {
        this.#needAnotherKeepalive = false;
        this.#sendKeepaliveAt = now + KEEPALIVE_TIMEOUT;
      }
    }
    if (this.#newHandshakeAt !== undefined && this.#newHandshakeAt <= now) {
      // Data went out but nothing came back for 15 s: the session may be dead.
      this.#newHandshakeAt = undefined;
      this.#initiate(false);
    }
    if (this.#zeroKeysAt !== undefined && this.#zeroKeysAt <= now) {
      this.#zeroKeysAt = undefined;
      this.#zeroAll();
    }
    if (this.#persistentKeepaliveAt !== undefined && this.#persistentKeepaliveAt <= now) {
      this.#persistentKeepaliveAt = undefined;
      this.#sendKeepalive();
    }
    return this.#drain();
  }

  /** The earliest armed timer, in {@link clock}'s milliseconds; undefined when none is armed. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (
      const at of [
        this.#retransmitAt,
        this.#sendKeepaliveAt,
        this.#newHandshakeAt,
        this.#zeroKeysAt,
        this.#persistentKeepaliveAt,
      ]
    ) {
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  // --- sending ---

  #canSend(keypair: Keypair | undefined): keypair is Keypair {
    return keypair !== undefined && this.#now() - keypair.createdAt < REJECT_AFTER_TIME &&
      keypair.sendCounter < REJECT_AFTER_MESSAGES;
  }

  #enqueue(packet: Uint8Array): void {
    if (this.#queue.length >= MAX_QUEUED_PACKETS) {
      this.#queue.shift();
      this.#stats.dropped.queued++;
    }
    this.#queue.push(packet);
  }

  // wireguard-go's SendStagedPackets.
  #flush(): void {
    if (this.#queue.length === 0) return;
    if (!this.#canSend(this.#current)) {
      this.#initiate(false);
      return;
    }
    const queued = this.#queue;
    this.#queue = [];
    this.#seal(queued);
  }

  #seal(packets: readonly Uint8Array[]): void {
    const keypair = this.#current!;
    let data = false;
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i];
      const message = keypair.seal(packet, this.#mtu);
      if (!message) {
        // The key is spent: keep the rest for the next session.
        for (const rest of packets.slice(i)) this.#enqueue(rest);
        this.#initiate(false);
        break;
      }
      this.#out.push(message);
      this.#stats.bytesSent += message.length;
      if (packet.length > 0) {
        data = true;
        this.#stats.packetsSent++;
      }
    }
    this.#authenticatedTraversal();
    this.#authenticatedSent();
    if (data) this.#dataSent();
    this.#keepKeyFreshSending();
  }

  #sendKeepalive(): void {
    if (this.#queue.length === 0) this.#queue.push(EMPTY);
    this.#flush();
  }

  #initiate(isRetry: boolean): void {
    if (!isRetry) this.#handshakeAttempts = 0;
    const now = this.#now();
    if (now - this.#lastInitiationSentAt < REKEY_TIMEOUT) return;
    this.#lastInitiationSentAt = now;
    const message = this.#handshake.createInitiation(this.#newIndex());
    this.#generator.addMacs(message);
    this.#out.push(message);
    this.#stats.bytesSent += message.length;
    this.#stats.initiationsSent++;
    this.#authenticatedTraversal();
    this.#authenticatedSent();
    this.#retransmitAt = now + REKEY_TIMEOUT + this.#jitter();
  }

  #expiredRetransmit(now: number): void {
    if (this.#handshakeAttempts > MAX_HANDSHAKE_ATTEMPTS) {
      // Gave up (~90 s): drop what waited for this session.
      this.#sendKeepaliveAt = undefined;
      this.#stats.dropped.queued += this.#queue.filter((packet) => packet.length > 0).length;
      this.#queue = [];
      this.#zeroKeysAt ??= now + ZERO_KEYS_AFTER;
      return;
    }
    this.#handshakeAttempts++;
    this.#initiate(true);
  }

  #keepKeyFreshSending(): void {
    const keypair = this.#current;
    if (!keypair) return;
    if (
      keypair.sendCounter > REKEY_AFTER_MESSAGES ||
      (keypair.isInitiator && this.#now() - keypair.createdAt > REKEY_AFTER_TIME)
    ) {
      this.#initiate(false);
    }
  }

  // The initiator also rekeys when it only receives, shortly before the
  // session would expire (the responder never rekeys on age).
  #keepKeyFreshReceiving(): void {
    if (this.#sentLastMinuteHandshake) return;
    const keypair = this.#current;
    if (
      keypair?.isInitiator &&
      this.#now() - keypair.createdAt > REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT
    ) {
      this.#sentLastMinuteHandshake = true;
      this.#initiate(false);
    }
  }

  // --- receiving ---

  #receiveInitiation(message: Uint8Array, source: Uint8Array): void {
    if (message.length !== INITIATION_SIZE) return void this.#stats.dropped.malformed++;
    if (!this.#checkMacs(message, source)) return;
    const refusal = this.#handshake.consumeInitiation(message);
    if (refusal) return this.#countRefusal(refusal);
    this.#authenticatedTraversal();
    this.#authenticatedReceived();
    const response = this.#handshake.createResponse(this.#newIndex());
    this.#generator.addMacs(response);
    this.#beginSession(this.#handshake.beginSession());
    this.#sessionDerived();
    this.#authenticatedTraversal();
    this.#authenticatedSent();
    this.#out.push(response);
    this.#stats.bytesSent += response.length;
  }

  #receiveResponse(message: Uint8Array, source: Uint8Array): void {
    if (message.length !== RESPONSE_SIZE) return void this.#stats.dropped.malformed++;
    if (!this.#checkMacs(message, source)) return;
    const refusal = this.#handshake.consumeResponse(message);
    if (refusal) return this.#countRefusal(refusal);
    this.#authenticatedTraversal();
    this.#authenticatedReceived();
    this.#beginSession(this.#handshake.beginSession());
    this.#sessionDerived();
    this.#handshakeComplete();
    // Confirms the session to the responder: queued data, or a keepalive.
    this.#sendKeepalive();
  }

  // mac1 always; under load also mac2, else a cookie reply and nothing more.
  #checkMacs(message: Uint8Array, source: Uint8Array): boolean {
    if (!this.#checker.checkMac1(message)) {
      this.#stats.dropped.unauthenticated++;
      return false;
    }
    if (this.#underLoad() && !this.#checker.checkMac2(message, source)) {
      const sender = new DataView(message.buffer, message.byteOffset + 4, 4).getUint32(0, true);
      const reply = this.#checker.createReply(message, sender, source);
      this.#out.push(reply);
      this.#stats.bytesSent += reply.length;
      this.#stats.cookieRepliesSent++;
      return false;
    }
    return true;
  }

  // Counts this arrival; under load when more than the threshold arrived within one second.
  #underLoad(): boolean {
    const now = this.#now();
    const oldest = this.#arrivals[this.#arrivalIndex];
    this.#arrivals[this.#arrivalIndex] = now;
    this.#arrivalIndex = (this.#arrivalIndex + 1) % this.#arrivals.length;
    if (now - oldest < 1000) this.#underLoadUntil = now + UNDER_LOAD_AFTER;
    return now < this.#underLoadUntil;
  }

  #receiveCookieReply(message: Uint8Array): void {
    if (message.length !== COOKIE_REPLY_SIZE) return void this.#stats.dropped.malformed++;
    if (this.#generator.consumeReply(message)) this.#stats.cookieRepliesReceived++;
    else this.#stats.dropped.unauthenticated++;
  }

  #receiveTransport(message: Uint8Array, packets: Uint8Array[]): void {
    const header = decodeTransportHeader(message);
    const keypair = this.#keypairFor(header.receiver);
    if (!keypair) return void this.#stats.dropped.unauthenticated++;
    if (this.#now() - keypair.createdAt >= REJECT_AFTER_TIME) {
      return void this.#stats.dropped.expired++;
    }
    const plaintext = keypair.open(message, header.counter);
    if (typeof plaintext === "string") return void this.#stats.dropped[plaintext]++;
    if (keypair === this.#next) {
      // The initiator used the new session: it is confirmed, switch to it.
      this.#previous?.zero();
      this.#previous = this.#current;
      this.#current = keypair;
      this.#next = undefined;
      this.#handshakeComplete();
      this.#flush();
    }
    this.#keepKeyFreshReceiving();
    this.#authenticatedTraversal();
    this.#authenticatedReceived();
    if (plaintext.length === 0) return; // a keepalive
    this.#dataReceived();
    const length = ipPacketLength(plaintext);
    if (length === undefined) return void this.#stats.dropped.malformed++;
    packets.push(length === plaintext.length ? plaintext : plaintext.subarray(0, length));
    this.#stats.packetsReceived++;
  }

  #keypairFor(index: number): Keypair | undefined {
    for (const keypair of [this.#current, this.#next, this.#previous]) {
      if (keypair?.localIndex === index) return keypair;
    }
    return undefined;
  }

  #countRefusal(refusal: string): void {
    if (refusal === "malformed") this.#stats.dropped.malformed++;
    else if (refusal === "unauthenticated") this.#stats.dropped.unauthenticated++;
    else if (refusal === "replayed") this.#stats.dropped.replayed++;
    else this.#stats.dropped.refusedHandshakes++;
  }

  // --- sessions ---

  #beginSession(keys: SessionKeys): void {
    const keypair = new Keypair(keys, this.#now());
    if (keys.isInitiator) {
      // An unconfirmed session of ours as responder is superseded: keep it as
      // previous (the peer may still use it), drop the older current one.
      const stale = this.#previous;
      if (this.#next) {
        this.#previous = this.#next;
        this.#next = undefined;
        this.#current?.zero();
      } else {
        this.#previous = this.#current;
      }
      stale?.zero();
      this.#current = keypair;
    } else {
      this.#next?.zero();
      this.#next = keypair;
      this.#previous?.zero();
      this.#previous = undefined;
    }
  }

  #zeroAll(): void {
    for (const keypair of [this.#current, this.#previous, this.#next]) keypair?.zero();
    this.#current = this.#previous = this.#next = undefined;
    this.#handshake.clear();
  }

  #newIndex(): number {
    const bytes = new Uint8Array(4);
    const view = new DataView(bytes.buffer);
    for (;;) {
      this.#random(bytes);
      const index = view.getUint32(0, true);
      if (index !== 0 && !this.#keypairFor(index)) return index;
    }
  }

  #jitter(): number {
    const bytes = new Uint8Array(2);
    this.#random(bytes);
    return (bytes[0] | (bytes[1] << 8)) % REKEY_TIMEOUT_JITTER_MAX;
  }

  #drain(): Uint8Array[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  // --- timer hooks, named after wireguard-go's timers* functions ---

  #authenticatedTraversal(): void {
    if (this.#persistentKeepalive > 0) {
      this.#persistentKeepaliveAt = this.#now() + this.#persistentKeepalive;
    }
  }

  #authenticatedSent(): void {
    this.#sendKeepaliveAt = undefined;
  }

  #authenticatedReceived(): void {
    this.#newHandshakeAt = undefined;
  }

  #dataSent(): void {
    this.#newHandshakeAt ??= this.#now() + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + this.#jitter();
  }

  #dataReceived(): void {
    if (this.#sendKeepaliveAt === undefined) {
      this.#sendKeepaliveAt = this.#now() + KEEPALIVE_TIMEOUT;
    } else this.#needAnotherKeepalive = true;
  }

  #sessionDerived(): void {
    this.#zeroKeysAt = this.#now() + ZERO_KEYS_AFTER;
  }

  #handshakeComplete(): void {
    this.#retransmitAt = undefined;
    this.#handshakeAttempts = 0;
    this.#sentLastMinuteHandshake = false;
    this.#stats.handshakes++;
    this.#stats.lastHandshakeAt = this.#now();
  }
}

/**
 * Length of the IP packet at the start of a decrypted payload (the rest is
 * padding), or undefined when it is not a whole IPv4 or IPv6 packet.
 */
export function ipPacketLength(payload: Uint8Array): number | undefined {
  const version = payload.length > 0 ? payload[0] >> 4 : 0;
  let length: number;
  if (version === 4 && payload.length >= 20) {
    length = (payload[2] << 8) | payload[3];
    if (length < 20) return undefined;
  } else if (version === 6 && payload.length >= 40) {
    length = 40 + ((payload[4] << 8) | payload[5]);
  } else {
    return undefined;
  }
  return length <= payload.length ? length : undefined;
}
