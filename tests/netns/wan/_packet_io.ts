/**
 * STATUS: prototype (issue 20, item 1). Linux x86_64/aarch64 only.
 *
 * Raw Ethernet frames in and out of a network device, in batches, through Deno FFI:
 * AF_PACKET sockets with `recvmmsg`/`sendmmsg` over one preallocated arena of fixed-size
 * slots, so moving a frame allocates nothing in JavaScript. Every call here is
 * synchronous: the delay line that uses it owns its thread and never returns to the
 * event loop while it runs (see `_delay_line.ts`).
 * @module
 */

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL = 0x0003)
const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SOL_PACKET = 263;
const PACKET_IGNORE_OUTGOING = 23;
const MSG_DONTWAIT = 0x40;
/** `msg_flags` bit: the frame was longer than its slot (offloads left on?). */
export const MSG_TRUNC = 0x20;
const PR_SET_TIMERSLACK = 29;
const EINTR = 4;
const EAGAIN = 11;
/** `poll()` event bits. */
export const POLLIN = 0x1;
/** POLLERR | POLLHUP | POLLNVAL. */
export const POLL_FAILURES = 0x8 | 0x10 | 0x20;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "buffer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  ppoll: { parameters: ["buffer", "u64", "buffer", "buffer"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

let bound: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | undefined;
/** libc, bound once. */
export function sys(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  return bound ??= Deno.dlopen("libc.so.6", SYMBOLS).symbols;
}

function errno(): number {
  const pointer = sys().__errno_location();
  return pointer === null ? 0 : new Deno.UnsafePointerView(pointer).getInt32();
}

function lastError(what: string, code = errno()): Error {
  const text = Deno.UnsafePointerView.getCString(sys().strerror(code)!);
  return new Error(`Cannot ${what}: ${text} (errno ${code})`);
}

function addressOf(buffer: Uint8Array): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}

// A 64-bit pointer written as two 32-bit halves: no BigInt per write.
function setPointer(view: DataView, at: number, address: number): void {
  view.setUint32(at, address % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(address / 0x1_0000_0000), true);
}

/** Lets the kernel wake this thread's sleeps on time (its default slack is 50 µs). */
export function setTimerSlack(ns: number): void {
  sys().prctl(PR_SET_TIMERSLACK, BigInt(ns), 0n, 0n, 0n);
}

/**
 * Opens a non-blocking AF_PACKET socket bound to `device`, receiving every frame that
 * arrives on it and none that it sends, with send and receive buffers of `bufferBytes`.
 *
 * @throws {Error} "Cannot <step>: <errno text>".
 */
export function openPacketSocket(device: string, bufferBytes: number): number {
  const index = sys().if_nametoindex(new TextEncoder().encode(`${device}\0`));
  if (index === 0) throw lastError(`find device ${device}`);
  const fd = sys().socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, ETH_P_ALL_BE);
  if (fd < 0) throw lastError("open an AF_PACKET socket");
  const int = (value: number) => new Uint8Array(new Int32Array([value]).buffer);
  const options: [number, number, number, string][] = [
    [SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "set PACKET_IGNORE_OUTGOING"],
    [SOL_SOCKET, SO_RCVBUFFORCE, bufferBytes, "set SO_RCVBUFFORCE"],
    [SOL_SOCKET, SO_SNDBUFFORCE, bufferBytes, "set SO_SNDBUFFORCE"],
  ];
  for (const [level, name, value, what] of options) {
    if (sys().setsockopt(fd, level, name, int(value), 4) < 0) {
      const error = lastError(what);
      sys().close(fd);
      throw error;
    }
  }
  // struct sockaddr_ll: family u16, protocol u16 (network order), ifindex i32, ... (20 bytes)
  const address = new Uint8Array(20);
  const view = new DataView(address.buffer);
  view.setUint16(0, AF_PACKET, true);
  view.setUint16(2, ETH_P_ALL_BE, true);
  view.setInt32(4, index, true);
  if (sys().bind(fd, address, address.length) < 0) {
    const error = lastError(`bind to ${device}`);
    sys().close(fd);
    throw error;
  }
  return fd;
}

/** Fixed-size frame slots in one buffer, with a stack of free slot numbers. */
export class SlotArena {
  /** Bytes per slot. */
  readonly slotBytes: number;
  /** Number of slots. */
  readonly slots: number;
  /** Length of the frame in each slot. */
  readonly lengths: Uint32Array;
  readonly #bytes: Uint8Array;
  readonly #address: number;
  readonly #free: Int32Array;
  #freeCount: number;

  constructor(slots: number, slotBytes: number) {
    this.slots = slots;
    this.slotBytes = slotBytes;
    this.#bytes = new Uint8Array(slots * slotBytes);
    this.#address = addressOf(this.#bytes);
    this.lengths = new Uint32Array(slots);
    this.#free = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.#free[i] = slots - 1 - i;
    this.#freeCount = slots;
  }

  /** Slots free now. */
  get free(): number {
    return this.#freeCount;
  }

  /** A free slot's number, or -1 when all are taken. */
  take(): number {
    return this.#freeCount === 0 ? -1 : this.#free[--this.#freeCount];
  }

  /** Returns a slot. */
  release(slot: number): void {
    this.#free[this.#freeCount++] = slot;
  }

  /** Memory address of a slot's first byte. */
  address(slot: number): number {
    return this.#address + slot * this.slotBytes;
  }
}

// struct mmsghdr on 64-bit Linux: struct msghdr (56 bytes: name 0, namelen 8, iov 16,
// iovlen 24, control 32, controllen 40, flags 48) then msg_len u32 at 56; 64 bytes.
const MMSGHDR = 64;
const IOVEC = 16;

/** Up to `size` mmsghdr/iovec pairs, each with one iovec, for recvmmsg or sendmmsg. */
export class MessageBatch {
  /** Capacity in messages. */
  readonly size: number;
  /** Slot of each message, as set by {@link MessageBatch.set}. */
  readonly slotOf: Int32Array;
  readonly #headers: Uint8Array;
  readonly #headerView: DataView;
  readonly #iovecView: DataView;

  constructor(size: number) {
    this.size = size;
    this.slotOf = new Int32Array(size);
    this.#headers = new Uint8Array(size * MMSGHDR);
    const iovecs = new Uint8Array(size * IOVEC);
    this.#headerView = new DataView(this.#headers.buffer);
    this.#iovecView = new DataView(iovecs.buffer);
    const iovecAddress = addressOf(iovecs);
    for (let i = 0; i < size; i++) {
      setPointer(this.#headerView, i * MMSGHDR + 16, iovecAddress + i * IOVEC);
      this.#headerView.setUint32(i * MMSGHDR + 24, 1, true);
    }
  }

  /** Points message `i` at `length` bytes of `slot`. */
  set(i: number, arena: SlotArena, slot: number, length: number): void {
    this.slotOf[i] = slot;
    setPointer(this.#iovecView, i * IOVEC, arena.address(slot));
    this.#iovecView.setUint32(i * IOVEC + 8, length, true);
    this.#iovecView.setUint32(i * IOVEC + 12, 0, true);
  }

  /** Bytes the kernel moved for message `i` (after a receive: the frame's length). */
  length(i: number): number {
    return this.#headerView.getUint32(i * MMSGHDR + 56, true);
  }

  /** `msg_flags` of message `i` after a receive. */
  flags(i: number): number {
    return this.#headerView.getInt32(i * MMSGHDR + 48, true);
  }

  /** Receives up to `count` frames without waiting; returns how many (0 when none). */
  receive(fd: number, count: number): number {
    const n = sys().recvmmsg(fd, this.#headers, count, MSG_DONTWAIT, null);
    if (n >= 0) return n;
    const code = errno();
    if (code === EAGAIN || code === EINTR) return 0;
    throw lastError("receive frames", code);
  }

  /** Sends messages `from`..`count-1`; returns how many left, or -1 on an error. */
  send(fd: number, from: number, count: number): number {
    const headers = from === 0 ? this.#headers : this.#headers.subarray(from * MMSGHDR);
    return sys().sendmmsg(fd, headers, count - from, MSG_DONTWAIT);
  }
}
