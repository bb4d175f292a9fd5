/**
 * A {@link TunDevice} over an open, non-blocking TUN file descriptor, shared by
 * the Linux and macOS implementations. The main thread reads: while packets
 * are waiting it drains them with synchronous non-blocking `read()`s (about a
 * microsecond each), and only when the device is empty does it wait, in one
 * `poll()` that Deno runs off the event loop (an FFI call marked
 * non-blocking). A busy device therefore costs no thread hop per packet, and
 * an idle one wakes sooner than a reader worker could tell the main thread:
 * pings through a script echoing on the device averaged 0.73 ms this way and
 * 1.73 ms with a worker posting its batches. Writes are one synchronous
 * `write()` per packet; right after them, while a read waits, the device is
 * drained once more, since what the system answers at once (an echo reply, a
 * TCP ack) is often queued by then and needs no wake-up.
 * @module
 */
import { ERRNO, errno, errnoText, libc, LIBC_PATH, POLL_FAILURES, POLLIN } from "./_libc.ts";
import type { TunDevice } from "./tun_device.ts";

/** How to frame packets on the descriptor. */
export interface FdTunOptions {
  /** Interface name as the system reports it. */
  name: string;
  /** Interface MTU. */
  mtu: number;
  /** Writes a packet; macOS prepends its 4-byte address family. Returns false when dropped. */
  writePacket?: (fd: number, packet: Uint8Array) => boolean;
  /** Bytes to strip before each packet read (4 on macOS). */
  headerBytes?: number;
}

// The largest IPv4/IPv6 packet without jumbograms: a read this large never truncates,
// whatever MTU someone sets on the interface later.
const MAX_READ = 65_535 + 4;
/**
 * Packets are read into arenas of this size: twice the largest read, so each
 * holds at least 45 full-size (1,420-byte) packets before the next is made.
 */
const ARENA_BYTES = 2 * MAX_READ;
/**
 * Packets one read() hands over at most. A burst larger than this is taken in
 * several batches, so the event loop (QUIC, timers) runs between them; 64
 * full-size packets are about 90 KB, a few tens of microseconds of work.
 */
const BATCH_PACKETS = 64;

// poll() marked non-blocking: Deno runs it on a blocking thread and resolves a
// promise, so the event loop never stops in it. (nfds_t is `unsigned long` in
// glibc and `unsigned int` in libSystem.)
const POLL_SYMBOLS = {
  poll: {
    parameters: ["buffer", Deno.build.os === "darwin" ? "u32" : "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
} as const;
let pollBinding: Deno.DynamicLibrary<typeof POLL_SYMBOLS>["symbols"] | undefined;
function waitingPoll() {
  return pollBinding ??= Deno.dlopen(LIBC_PATH, POLL_SYMBOLS).symbols;
}

/** Writes one packet as is; false when the kernel refused it (dropped). */
export function writeRaw(fd: number, packet: Uint8Array): boolean {
  return Number(libc().write(fd, packet, BigInt(packet.byteLength))) >= 0;
}

/** The TUN device over `fd`; it owns `fd` from here on and closes it in `close()`. */
export class FdTunDevice implements TunDevice {
  readonly name: string;
  readonly mtu: number;
  readonly #fd: number;
  readonly #wake: [number, number];
  readonly #writePacket: (fd: number, packet: Uint8Array) => boolean;
  readonly #headerBytes: number;
  #arena = new Uint8Array(0);
  #arenaUsed = 0;
  // struct pollfd { int fd; short events; short revents; } x 2: the device, the wake pipe.
  readonly #pollFds = new Uint8Array(16);
  #polling: Promise<void> | undefined;
  /** Resolves a read() waiting for the device, when write() caught packets for it. */
  #wakeReader: (() => void) | undefined;
  /** Batches write() caught, for the next read(). */
  readonly #caught: Uint8Array[][] = [];
  #closing: Promise<void> | undefined;
  #closed = false;
  /** Packets `write()` dropped because the kernel refused them. */
  dropped = 0;

  constructor(fd: number, options: FdTunOptions) {
    this.name = options.name;
    this.mtu = options.mtu;
    this.#fd = fd;
    this.#writePacket = options.writePacket ?? writeRaw;
    this.#headerBytes = options.headerBytes ?? 0;
    const pair = new Int32Array(2);
    if (libc().pipe(pair) < 0) {
      const text = errnoText(errno());
      libc().close(fd);
      throw new Error(`Cannot watch the TUN device: pipe failed: ${text}`);
    }
    this.#wake = [pair[0], pair[1]];
    const view = new DataView(this.#pollFds.buffer);
    view.setInt32(0, fd, true);
    view.setInt16(4, POLLIN, true);
    view.setInt32(8, this.#wake[0], true);
    view.setInt16(12, POLLIN, true);
  }

  async read(): Promise<Uint8Array[] | null> {
    for (;;) {
      if (this.#closing) return null;
      const caught = this.#caught.shift();
      if (caught) return caught;
      const batch = this.#drain();
      if (batch.length > 0) return batch;
      // One poll at a time: a wait cut short by write() leaves it running for the next read.
      this.#polling ??= this.#poll();
      const woken = new Promise<void>((resolve) => this.#wakeReader = resolve);
      await Promise.race([this.#polling, woken]);
      this.#wakeReader = undefined;
    }
  }

  write(packets: readonly Uint8Array[]): void {
    if (this.#closed || this.#closing) return;
    for (const packet of packets) {
      if (!this.#writePacket(this.#fd, packet)) this.dropped++;
    }
    // What the system answers at once (an echo reply, a TCP ack) is often queued
    // by the time write() returns: take it now instead of waking a poll for it.
    if (this.#wakeReader) {
      const answered = this.#drain();
      if (answered.length > 0) {
        this.#caught.push(answered);
        this.#wakeReader();
        this.#wakeReader = undefined;
      }
    }
  }

  /** Waits until the device or the wake pipe is readable; throws when the device fails. */
  async #poll(): Promise<void> {
    const view = new DataView(this.#pollFds.buffer);
    view.setInt16(6, 0, true);
    view.setInt16(14, 0, true);
    const result = await waitingPoll().poll(this.#pollFds, 2, -1);
    this.#polling = undefined;
    if (this.#closing) return;
    // errno belongs to the thread that ran poll(): only the outcome is known here.
    if (result < 0) throw new Error(`TUN device ${this.name} stopped: poll failed`);
    if (view.getInt16(6, true) & POLL_FAILURES) {
      throw new Error(
        `TUN device ${this.name} stopped: the device reported an error (was it deleted?)`,
      );
    }
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  /** Reads what is waiting, up to a batch; empty when nothing is. */
  #drain(): Uint8Array[] {
    const c = libc();
    const batch: Uint8Array[] = [];
    while (batch.length < BATCH_PACKETS) {
      // Packets are views into an arena that is never written twice: no allocation
      // per packet. A read is offered at least MAX_READ bytes, so none is truncated.
      if (this.#arena.length - this.#arenaUsed < MAX_READ) {
        this.#arena = new Uint8Array(ARENA_BYTES);
        this.#arenaUsed = 0;
      }
      const space = this.#arena.subarray(this.#arenaUsed);
      const n = Number(c.read(this.#fd, space, BigInt(space.length)));
      if (n < 0) {
        const code = errno();
        if (code === ERRNO.EAGAIN) break;
        if (code === ERRNO.EINTR) continue;
        throw new Error(`TUN device ${this.name} stopped: read failed: ${errnoText(code)}`);
      }
      if (n <= this.#headerBytes) continue;
      batch.push(space.subarray(this.#headerBytes, n));
      this.#arenaUsed += n;
    }
    return batch;
  }

  async #close(): Promise<void> {
    // Wake a poll in progress, and let it return before its descriptors go.
    libc().write(this.#wake[1], new Uint8Array(1), 1n);
    this.#wakeReader?.();
    await this.#polling?.catch(() => {});
    libc().close(this.#fd);
    libc().close(this.#wake[0]);
    libc().close(this.#wake[1]);
    this.#closed = true;
  }
}
