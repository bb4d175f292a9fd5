/**
 * An in-memory {@link TunDevice} for tests: the test injects the packets the
 * "system" routes into the interface and reads back what was written to it.
 * @module
 */
import type { TunDevice } from "./tun_device.ts";

/** A fake TUN device. */
export class MemoryTun implements TunDevice {
  /** As given to the constructor. */
  readonly name: string;
  /** As given to the constructor. */
  readonly mtu: number;
  /** Every packet written to the device, in order. */
  readonly written: Uint8Array[] = [];
  #incoming: Uint8Array[] = [];
  #reader: ((packets: Uint8Array[] | null) => void) | undefined;
  #writeWaiters: { count: number; resolve: () => void }[] = [];
  #closed = false;

  /** A device named `name` (default "mem0") with MTU `mtu` (default 1420). */
  constructor(name = "mem0", mtu = 1420) {
    this.name = name;
    this.mtu = mtu;
  }

  /** Packets for {@link read}, as if the system routed them into the interface. */
  inject(packets: readonly Uint8Array[]): void {
    if (this.#closed) return;
    this.#incoming.push(...packets);
    if (this.#reader && this.#incoming.length > 0) {
      const reader = this.#reader;
      this.#reader = undefined;
      reader(this.#take());
    }
  }

  /** Injected packets, at least one; null once closed. */
  read(): Promise<Uint8Array[] | null> {
    if (this.#incoming.length > 0) return Promise.resolve(this.#take());
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#reader = resolve);
  }

  /** Records packets in {@link written}. */
  write(packets: readonly Uint8Array[]): void {
    if (this.#closed) return;
    this.written.push(...packets);
    this.#writeWaiters = this.#writeWaiters.filter((waiter) => {
      if (this.written.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves once at least `count` packets were written in all. */
  waitForWritten(count: number): Promise<void> {
    if (this.written.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#writeWaiters.push({ count, resolve }));
  }

  /** Ends {@link read} with null. */
  close(): Promise<void> {
    this.#closed = true;
    this.#reader?.(null);
    this.#reader = undefined;
    return Promise.resolve();
  }

  #take(): Uint8Array[] {
    const packets = this.#incoming;
    this.#incoming = [];
    return packets;
  }
}
