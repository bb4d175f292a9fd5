// The server WebSocket over a fake socket: what it queues, and when it stops.
import assert from "node:assert/strict";
import { encodeClientFrame, Opcode } from "./_websocket_frames.ts";
import { acceptWebSocket, type UpgradedSocket } from "./_websocket_server.ts";
import { ReceiveBudget } from "./receive_budget.ts";
import { SendBudget } from "./send_budget.ts";

/** A socket that keeps what is written until `flush()`, as a peer that does not read. */
class FakeSocket implements UpgradedSocket {
  readonly remoteAddress = "192.0.2.1";
  written: Uint8Array[] = [];
  #waiting: { bytes: Uint8Array; sent?: () => void }[] = [];
  paused = false;
  destroyed = false;
  // deno-lint-ignore no-explicit-any
  #listeners = new Map<string, ((arg?: any) => void)[]>();

  get writableLength(): number {
    return this.#waiting.reduce((sum, w) => sum + w.bytes.length, 0);
  }
  write(bytes: Uint8Array, sent?: () => void): boolean {
    this.written.push(bytes);
    this.#waiting.push({ bytes, sent });
    return true;
  }
  /** The peer read everything: each write's callback runs. */
  flush(): void {
    for (const { sent } of this.#waiting.splice(0)) sent?.();
  }
  end(): void {}
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    // As node does: the writes still waiting are discarded, their callbacks run.
    this.flush();
    this.#emit("close");
  }
  pause(): void {
    this.paused = true;
  }
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (arg?: any) => void): this {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }
  /** Delivers bytes from the peer, unless paused (then the kernel would hold them). */
  receive(bytes: Uint8Array): void {
    if (!this.paused) this.#emit("data", bytes);
  }
  #emit(event: string, arg?: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(arg);
  }
}

const MASK = Uint8Array.of(1, 2, 3, 4);
const PING = encodeClientFrame(Opcode.Ping, new Uint8Array(125).fill(7), MASK);
/** A Pong answering {@linkcode PING}: 2-byte header and the 125 bytes. */
const PONG_BYTES = 127;

function open(budget: SendBudget, maxMessage = 1 << 20, receive = new ReceiveBudget()) {
  const socket = new FakeSocket();
  const account = budget.client();
  const receiveAccount = receive.client();
  const websocket = acceptWebSocket(socket, {
    key: "dGhlIHNhbXBsZSBub25jZQ==",
    protocol: "iroh-relay-v2",
    head: new Uint8Array(0),
    maxMessage,
    account,
    receiveAccount,
  });
  socket.flush(); // the 101 answer
  socket.written = [];
  const events = {
    messages: [] as Uint8Array[],
    overBudget: [] as string[],
    overReceiveBudget: [] as string[],
    protocol: [] as string[],
  };
  websocket.start({
    onMessage: (message) => events.messages.push(message),
    onProtocolError: (reason) => events.protocol.push(reason),
    onOverBudget: (reason) => events.overBudget.push(reason),
    onOverReceiveBudget: (reason) => events.overReceiveBudget.push(reason),
    onClose() {},
  });
  return { socket, account, receiveAccount, websocket, events };
}

Deno.test("server WebSocket: Pongs a peer does not read stop at its answer budget, then nothing more is read", () => {
  const budget = new SendBudget({
    datagramsPerClient: 1 << 20,
    datagramsTotal: 1 << 20,
    answersPerClient: 10 * PONG_BYTES,
  });
  const { socket, account, websocket, events } = open(budget);
  // 1,000 Pings in one chunk: only 10 Pongs may wait.
  const flood = new Uint8Array(PING.length * 1_000);
  for (let i = 0; i < 1_000; i++) flood.set(PING, i * PING.length);
  socket.receive(flood);
  assert.equal(socket.written.length, 10, "Pongs queued");
  assert.equal(account.answers, 10 * PONG_BYTES);
  assert.equal(budget.queued, 10 * PONG_BYTES);
  assert.deepEqual(events.overBudget, ["WebSocket Pongs it does not read"]);
  assert.ok(socket.paused, "reading stopped");
  // The owner closes it; the queued bytes leave the relay's total with it.
  websocket.close(4008, "over its send budget");
  socket.destroy();
  assert.equal(budget.queued, 0);
});

Deno.test("server WebSocket: a peer that reads its Pongs may ping on, and relay Pongs count alike", () => {
  const budget = new SendBudget({
    datagramsPerClient: 1 << 20,
    datagramsTotal: 1 << 20,
    answersPerClient: 4 * PONG_BYTES,
  });
  const { socket, account, websocket, events } = open(budget);
  for (let i = 0; i < 100; i++) {
    socket.receive(PING);
    socket.flush();
  }
  assert.equal(socket.written.length, 100);
  assert.deepEqual(events.overBudget, []);
  assert.equal(account.answers, 0);
  // Binary answers (relay Pongs) share the budget; other messages do not use it.
  websocket.send(new Uint8Array(1_000));
  for (let i = 0; i < 4; i++) websocket.sendAnswer(new Uint8Array(100), "relay Pongs");
  assert.deepEqual(events.overBudget, []);
  websocket.sendAnswer(new Uint8Array(100), "relay Pongs");
  assert.deepEqual(events.overBudget, ["relay Pongs it does not read"]);
  assert.equal(account.answers, 4 * 102);
  assert.equal(account.queued, 1_004 + 4 * 102, "a 1,000-byte message has a 4-byte header");
});

Deno.test("server WebSocket: the message cap can be raised (a relay's handshake cap, then its frame cap)", () => {
  const { socket, websocket, events } = open(new SendBudget(), 4_096);
  const big = encodeClientFrame(Opcode.Binary, new Uint8Array(8_192), MASK);
  const small = encodeClientFrame(Opcode.Binary, new Uint8Array(100), MASK);
  socket.receive(small);
  assert.equal(events.messages.length, 1);
  websocket.maxMessage = 1 << 20;
  socket.receive(big);
  assert.equal(events.messages.length, 2);
  websocket.maxMessage = 4_096;
  socket.receive(big);
  assert.deepEqual(events.protocol, ["message over 4096 bytes"]);
});

/** A client frame of `opcode` with `payload`, its FIN bit set as `fin`. */
function fragment(opcode: number, payload: Uint8Array, fin: boolean): Uint8Array {
  const frame = encodeClientFrame(opcode, payload, MASK);
  if (!fin) frame[0] &= 0x7f;
  return frame;
}

Deno.test("server WebSocket: a frame still arriving holds its declared size in the receive budget until it is whole", () => {
  const receive = new ReceiveBudget({ total: 100_000 });
  const a = open(new SendBudget(), 1 << 20, receive);
  const b = open(new SendBudget(), 1 << 20, receive);
  const frame = encodeClientFrame(Opcode.Binary, new Uint8Array(60_000).fill(5), MASK);
  // The header and a little: the parser holds all 60,000 bytes from here.
  a.socket.receive(frame.subarray(0, 1_000));
  assert.equal(receive.held, 60_000);
  assert.equal(a.receiveAccount.held, 60_000);
  // A second one does not fit the total: b is stopped, holding nothing.
  b.socket.receive(frame.subarray(0, 1_000));
  assert.deepEqual(b.events.overReceiveBudget, ["a frame of 60000 bytes still arriving"]);
  assert.ok(b.socket.paused, "reading stopped");
  assert.equal(receive.held, 60_000);
  // a is not disturbed: its message arrives whole, and gives its bytes back.
  a.socket.receive(frame.subarray(1_000));
  assert.equal(a.events.messages.length, 1);
  assert.ok(a.events.messages[0].every((x) => x === 5));
  assert.equal(receive.held, 0);
  // Whole frames in one read hold nothing at all.
  a.socket.receive(frame);
  assert.equal(a.events.messages.length, 2);
  assert.equal(receive.held, 0);
});

Deno.test("server WebSocket: fragments are copied into one buffer within the receive budget, given back when closed", () => {
  const receive = new ReceiveBudget({ total: 40_000 });
  const { socket, receiveAccount, websocket, events } = open(new SendBudget(), 1 << 20, receive);
  socket.receive(fragment(Opcode.Binary, new Uint8Array(10_000).fill(1), false));
  assert.equal(receive.held, 10_000);
  // Empty fragments hold nothing (an array of views grew by one object each).
  const empty = fragment(Opcode.Continuation, new Uint8Array(0), false);
  const many = new Uint8Array(empty.length * 10_000);
  for (let i = 0; i < 10_000; i++) many.set(empty, i * empty.length);
  socket.receive(many);
  assert.equal(receive.held, 10_000);
  socket.receive(fragment(Opcode.Continuation, new Uint8Array(5_000).fill(2), false));
  assert.equal(receive.held, 20_000, "the buffer doubles");
  socket.receive(fragment(Opcode.Continuation, new Uint8Array(1_000).fill(3), true));
  assert.equal(events.messages.length, 1);
  const message = events.messages[0];
  assert.equal(message.length, 16_000);
  assert.deepEqual([message[0], message[10_000], message[15_999]], [1, 2, 3]);
  assert.equal(receive.held, 0);
  // A message whose fragments outgrow the total stops the connection, which gives all back.
  socket.receive(fragment(Opcode.Binary, new Uint8Array(30_000), false));
  assert.equal(receiveAccount.held, 30_000);
  socket.receive(fragment(Opcode.Continuation, new Uint8Array(20_000), false));
  assert.deepEqual(events.overReceiveBudget, ["fragments of 50000 bytes still arriving"]);
  assert.equal(receive.held, 0);
  websocket.close(4008, "over the receive budget");
  socket.destroy();
  assert.equal(receive.held, 0);
});

Deno.test("server WebSocket: a frame still arriving is given back when the connection closes", () => {
  const receive = new ReceiveBudget({ total: 100_000 });
  const { socket } = open(new SendBudget(), 1 << 20, receive);
  const frame = encodeClientFrame(Opcode.Binary, new Uint8Array(50_000), MASK);
  socket.receive(frame.subarray(0, 100));
  assert.equal(receive.held, 50_000);
  socket.destroy();
  assert.equal(receive.held, 0);
});
