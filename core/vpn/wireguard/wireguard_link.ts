/**
 * The I/O driver of a {@link WireGuardPeer}: runs it over one
 * {@link PacketPath}. It feeds the path's messages to the peer, sends what
 * the peer answers, hands decrypted IP packets to a callback, and calls
 * `tick()` at the peer's next deadline with a single timer.
 * @module
 */
import type { PacketPath } from "./packet_path.ts";
import type { WireGuardPeer } from "./wireguard_peer.ts";

/** Options of a {@link WireGuardLink}. */
export interface WireGuardLinkOptions {
  /**
   * Receives each batch of decrypted IP packets (keepalives excluded). Runs
   * inside the receive loop: it must not throw, and should not block.
   */
  onPackets: (packets: Uint8Array[]) => void;
}

/** One {@link WireGuardPeer} running over one {@link PacketPath}. */
export class WireGuardLink {
  readonly #peer: WireGuardPeer;
  readonly #path: PacketPath;
  readonly #onPackets: (packets: Uint8Array[]) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #closed = false;
  /** Settles when the receive loop has ended (the path closed or {@link close} was called). */
  readonly done: Promise<void>;

  /** Starts receiving at once. */
  constructor(peer: WireGuardPeer, path: PacketPath, options: WireGuardLinkOptions) {
    this.#peer = peer;
    this.#path = path;
    this.#onPackets = options.onPackets;
    this.done = this.#run();
    this.#schedule();
  }

  /** The peer this link drives (for its stats). */
  get peer(): WireGuardPeer {
    return this.#peer;
  }

  /** Encrypts IP packets and sends them, or queues them behind a handshake. */
  send(ipPackets: readonly Uint8Array[]): void {
    if (this.#closed) return;
    const messages = this.#peer.send(ipPackets);
    if (messages.length > 0) this.#path.send(messages);
    this.#schedule();
  }

  /** Stops the timer and closes the path. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#path.close();
  }

  async #run(): Promise<void> {
    try {
      for (;;) {
        const messages = await this.#path.receive();
        if (messages === null || this.#closed) break;
        const replies: Uint8Array[] = [];
        const packets: Uint8Array[] = [];
        for (const message of messages) {
          const result = this.#peer.receive(message);
          for (const reply of result.reply) replies.push(reply);
          for (const packet of result.packets) packets.push(packet);
        }
        if (replies.length > 0) this.#path.send(replies);
        if (packets.length > 0) this.#onPackets(packets);
        this.#schedule();
      }
    } finally {
      this.close();
    }
  }

  // One timer, moved only when the peer's next deadline comes before it: a
  // timer that fires early finds nothing due and sets itself again, which
  // costs less than re-arming it on every packet.
  #schedule(): void {
    if (this.#closed) return;
    const deadline = this.#peer.nextDeadline();
    if (deadline === undefined || deadline >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      if (this.#closed) return;
      const messages = this.#peer.tick();
      if (messages.length > 0) this.#path.send(messages);
      this.#schedule();
    }, Math.max(0, deadline - this.#peer.clock()));
  }
}
