// Length-prefixed binary fields for signaling bodies.
import { formatIp, parseIp } from "../net/mod.ts";
import { BlockError } from "./armor.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export class ByteWriter {
  #bytes: number[] = [];
  u8(v: number) {
    this.#bytes.push(v & 0xff);
    return this;
  }
  u16(v: number) {
    return this.u8(v >> 8).u8(v);
  }
  u32(v: number) {
    return this.u16(v >>> 16).u16(v & 0xffff);
  }
  raw(bytes: Uint8Array) {
    this.#bytes.push(...bytes);
    return this;
  }
  text(value: string) {
    const bytes = encoder.encode(value);
    return this.u16(bytes.length).raw(bytes);
  }
  ip(address: string) {
    const bytes = parseIp(address);
    if (!bytes) throw new TypeError(`Cannot encode '${address}': not an IP address`);
    return this.u8(bytes.length).raw(bytes);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
}

export class ByteReader {
  #offset = 0;
  constructor(readonly bytes: Uint8Array, readonly label: string) {}

  #take(n: number): Uint8Array {
    if (this.#offset + n > this.bytes.length) {
      throw new BlockError(`The ${this.label} block is damaged: it ends too early`);
    }
    const out = this.bytes.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }
  u8() {
    return this.#take(1)[0];
  }
  u16() {
    const b = this.#take(2);
    return (b[0] << 8) | b[1];
  }
  u32() {
    return ((this.u16() << 16) >>> 0) + this.u16();
  }
  raw(n: number) {
    return this.#take(n).slice();
  }
  text(max: number) {
    const length = this.u16();
    if (length > max) {
      throw new BlockError(`The ${this.label} block is damaged: a field is too long`);
    }
    try {
      return decoder.decode(this.#take(length));
    } catch (error) {
      if (error instanceof BlockError) throw error;
      throw new BlockError(`The ${this.label} block is damaged: a text field is not UTF-8`);
    }
  }
  ip() {
    const length = this.u8();
    if (length !== 4 && length !== 16) {
      throw new BlockError(`The ${this.label} block is damaged: bad address length ${length}`);
    }
    return formatIp(this.#take(length));
  }
  end() {
    if (this.#offset !== this.bytes.length) {
      throw new BlockError(`The ${this.label} block is damaged: unexpected bytes at its end`);
    }
  }
}
