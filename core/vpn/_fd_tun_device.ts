/**
 * A {@link TunDevice} over an open, non-blocking TUN file descriptor, shared by
 * the Linux and macOS implementations: a worker reads ({@link ReaderStart}),
 * the main thread writes with one synchronous `write()` per packet.
 * @module
 */
import { errno, errnoText, libc } from "./_libc.ts";
import { CONSUMED, type ReaderMessage, type ReaderStart, STOP } from "./_tun_reader.ts";
import type { TunDevice } from "./tun_device.ts";

/** How to frame packets on the descriptor. */
export interface FdTunOptions {
  /** Interface name as the system reports it. */
  name: string;
  /** Interface MTU. */
  mtu: number;
  /** Writes a packet; macOS prepends its 4-byte address family. Returns false when dropped. */
  writePacket?: (fd: number, packet: Uint8Array) => boolean;
  /** Bytes the worker strips before each packet read (4 on macOS). */
  headerBytes?: number;
  /** Runs after the descriptor is closed (macOS: nothing; kept for symmetry). */
  afterClose?: () => void;
}

// A reader stuck past this after being woken is terminated instead of waited for.
const STOP_GRACE_MS = 2_000;

const READER_URL = new URL("./_tun_reader.ts", import.meta.url);
// The worker's module and the module it imports: Deno checks read access for each one.
const READER_MODULES = [READER_URL, new URL("./_libc.ts", import.meta.url)];

/**
 * Throws one line unless the reader worker's modules may be loaded: Deno wants
 * read access to a local worker module, and without it the worker would die
 * after the device exists.
 */
export function checkReaderPermission(): void {
  for (const module of READER_MODULES) {
    if (module.protocol !== "file:") continue;
    const path = decodeURIComponent(module.pathname);
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") {
      throw new Error(`Cannot start the TUN reader: needs --allow-read for ${path}`);
    }
  }
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
  readonly #control = new Int32Array(new SharedArrayBuffer(8));
  readonly #worker: Worker;
  readonly #writePacket: (fd: number, packet: Uint8Array) => boolean;
  readonly #queue: Uint8Array[][] = [];
  #waiting: { resolve: (batch: Uint8Array[] | null) => void; reject: (e: Error) => void }[] = [];
  #failure: Error | undefined;
  #stopped: Promise<void>;
  #closing: Promise<void> | undefined;
  #closed = false;
  /** Packets `write()` dropped because the kernel refused them. */
  dropped = 0;

  constructor(fd: number, options: FdTunOptions) {
    this.name = options.name;
    this.mtu = options.mtu;
    this.#fd = fd;
    this.#writePacket = options.writePacket ?? writeRaw;
    const pair = new Int32Array(2);
    if (libc().pipe(pair) < 0) {
      const text = errnoText(errno());
      libc().close(fd);
      throw new Error(`Cannot start the TUN reader: pipe failed: ${text}`);
    }
    this.#wake = [pair[0], pair[1]];
    this.#worker = new Worker(READER_URL, { type: "module" });
    this.#stopped = new Promise((resolve) => {
      this.#worker.onmessage = (event: MessageEvent<ReaderMessage>) => {
        const message = event.data;
        if (message.kind === "packets") return this.#deliver(message.data, message.spans);
        if (message.kind === "failed") {
          this.#fail(new Error(`TUN device ${this.name} stopped: ${message.message}`));
        }
        resolve();
      };
      this.#worker.onerror = (event) => {
        event.preventDefault();
        this.#fail(new Error(`TUN device ${this.name} stopped: ${event.message}`));
        resolve();
      };
    });
    const start: ReaderStart = {
      fd,
      wakeFd: this.#wake[0],
      headerBytes: options.headerBytes ?? 0,
      control: this.#control.buffer as SharedArrayBuffer,
    };
    this.#worker.postMessage(start);
  }

  read(): Promise<Uint8Array[] | null> {
    const batch = this.#queue.shift();
    if (batch) {
      this.#consumed();
      return Promise.resolve(batch);
    }
    if (this.#failure) {
      const failure = this.#failure;
      this.#failure = undefined;
      return Promise.reject(failure);
    }
    if (this.#closed || this.#closing) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  write(packets: readonly Uint8Array[]): void {
    if (this.#closed || this.#closing) return;
    for (const packet of packets) {
      if (!this.#writePacket(this.#fd, packet)) this.dropped++;
    }
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    Atomics.store(this.#control, STOP, 1);
    // Changing the counter, not only notifying, wakes a worker about to wait on it.
    Atomics.add(this.#control, CONSUMED, 1);
    Atomics.notify(this.#control, CONSUMED);
    libc().write(this.#wake[1], new Uint8Array(1), 1n);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#stopped,
      new Promise((resolve) => timer = setTimeout(resolve, STOP_GRACE_MS)),
    ]);
    clearTimeout(timer);
    this.#worker.terminate();
    // Only now: closing the descriptor under a reader in read() would not wake it.
    libc().close(this.#fd);
    libc().close(this.#wake[0]);
    libc().close(this.#wake[1]);
    this.#closed = true;
    this.#queue.length = 0;
    for (const waiter of this.#waiting.splice(0)) waiter.resolve(null);
  }

  #deliver(data: ArrayBuffer, spans: Uint32Array): void {
    const batch: Uint8Array[] = [];
    for (let i = 0; i < spans.length; i += 2) {
      batch.push(new Uint8Array(data, spans[i], spans[i + 1]));
    }
    const waiter = this.#waiting.shift();
    if (waiter) {
      this.#consumed();
      waiter.resolve(batch);
    } else {
      this.#queue.push(batch);
    }
  }

  #consumed(): void {
    Atomics.add(this.#control, CONSUMED, 1);
    Atomics.notify(this.#control, CONSUMED);
  }

  #fail(error: Error): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter.reject(error);
    else this.#failure = error;
    for (const other of this.#waiting.splice(0)) other.resolve(null);
  }
}
