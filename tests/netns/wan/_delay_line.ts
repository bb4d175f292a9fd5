/**
 * STATUS: prototype (issue 20, item 1). It runs and is measured by `delay_line_test.ts`;
 * see the README section "A WAN between two namespaces" for the design and the figures.
 *
 * The delay line process: run in the middle namespace of a WAN pair, it moves every
 * Ethernet frame arriving on device `a` to device `b` and back, each direction through a
 * {@link LinkModel}. One thread, synchronous FFI only: it blocks in `ppoll()` on both
 * packet sockets and stdin with a timeout up to the next departure, so it wakes a few
 * tens of microseconds late (the event loop's timers would be a millisecond late); a round
 * trip through it measured 0.2-0.5 ms more than the delays set (sleeping until 200 µs
 * before a departure, then polling without sleeping).
 *
 * ```sh
 * ip netns exec MID deno run --allow-ffi _delay_line.ts '{"a":"a","b":"b","ab":{...},"ba":{...}}'
 * ```
 * Prints `{"event":"ready"}` once both sockets are bound. Closing its stdin (a pipe) stops
 * it; it then prints `{"event":"exit","ab":{...},"ba":{...}}` with each direction's
 * counters and exits 0.
 * @module
 */
import {
  MessageBatch,
  MSG_TRUNC,
  openPacketSocket,
  POLL_FAILURES,
  POLLIN,
  setTimerSlack,
  SlotArena,
  sys,
} from "./_packet_io.ts";
import { LinkModel } from "./link_model.ts";
import { seededRandom } from "./seeded_random.ts";
import type { DelayLineConfig, DirectionConfig } from "./wan_pair.ts";

// Frames per recvmmsg/sendmmsg: amortizes the call (a few µs) over up to ~100 KB.
const BATCH = 64;
// Offloads are off, so frames are at most MTU + 14 bytes; 2 KiB covers MTU 2018.
const SLOT_BYTES = 2048;
// 32,768 slots of 2 KiB = 64 MiB: ~170 ms of 300 MB/s in flight, more than any row needs.
const DEFAULT_SLOTS = 32_768;
// Socket buffers between the veths and us: bursts wait here while we are busy.
const SOCKET_BUFFER = 8 * 1024 * 1024;
// A ppoll() wake-up is ~50-100 µs late (README): sleep until this long before a
// departure, then poll without sleeping. Costs a core for that long per departure.
const SPIN_US = 200;
// While frames keep coming the loop never sleeps; it still looks at stdin this often.
const BUSY_PASSES_PER_STDIN_CHECK = 256;

interface DirectionStats {
  /** Frames longer than a slot (offloads left on). */
  truncated: number;
  /** Frames read while every slot was taken. */
  noSlot: number;
  /** Frames the kernel refused to send. */
  sendDrops: number;
}

interface Direction {
  from: number;
  to: number;
  model: LinkModel<number>;
  rx: MessageBatch;
  tx: MessageBatch;
  stats: DirectionStats;
}

const config: DelayLineConfig = JSON.parse(Deno.args[0]);
const arena = new SlotArena((config.slots ?? DEFAULT_SLOTS) + 1, SLOT_BYTES);
const scratch = arena.take(); // frames read without a free slot land here and are dropped

function model(options: DirectionConfig): LinkModel<number> {
  const { seed, ...rest } = options;
  return new LinkModel<number>({
    ...rest,
    random: seed === undefined ? Math.random : seededRandom(seed),
  });
}

function direction(from: number, to: number, options: DirectionConfig): Direction {
  return {
    from,
    to,
    model: model(options),
    rx: new MessageBatch(BATCH),
    tx: new MessageBatch(BATCH),
    stats: { truncated: 0, noSlot: 0, sendDrops: 0 },
  };
}

/** Reads what is waiting on `d.from` into the model; returns the frames read. */
function receive(d: Direction, nowUs: number): number {
  let armed = 0;
  for (; armed < BATCH; armed++) {
    const slot = arena.take();
    if (slot < 0) break;
    d.rx.set(armed, arena, slot, SLOT_BYTES);
  }
  for (let i = armed; i < BATCH; i++) d.rx.set(i, arena, scratch, SLOT_BYTES);
  const n = d.rx.receive(d.from, BATCH);
  for (let i = 0; i < n; i++) {
    const slot = d.rx.slotOf[i];
    if (i >= armed) {
      d.stats.noSlot++;
    } else if (d.rx.flags(i) & MSG_TRUNC) {
      d.stats.truncated++;
      arena.release(slot);
    } else {
      const length = d.rx.length(i);
      arena.lengths[slot] = length;
      if (d.model.offer(slot, length, nowUs) !== "queued") arena.release(slot);
    }
  }
  for (let i = n; i < armed; i++) arena.release(d.rx.slotOf[i]);
  return n;
}

/** Sends every frame due by `nowUs` out of `d.to`. */
function send(d: Direction, nowUs: number): void {
  for (;;) {
    let count = 0;
    while (count < BATCH) {
      const slot = d.model.take(nowUs);
      if (slot === undefined) break;
      d.tx.set(count++, arena, slot, arena.lengths[slot]);
    }
    if (count === 0) return;
    for (let from = 0; from < count;) {
      const sent = d.tx.send(d.to, from, count);
      if (sent > 0) {
        from += sent;
      } else {
        d.stats.sendDrops++; // the kernel refused this one (ENOBUFS, EAGAIN): drop it
        from++;
      }
    }
    for (let i = 0; i < count; i++) arena.release(d.tx.slotOf[i]);
    if (count < BATCH) return;
  }
}

const fdA = openPacketSocket(config.a, SOCKET_BUFFER);
const fdB = openPacketSocket(config.b, SOCKET_BUFFER);
const ab = direction(fdA, fdB, config.ab);
const ba = direction(fdB, fdA, config.ba);
setTimerSlack(1);

// struct pollfd { int fd; short events; short revents; } for a, b and stdin.
const pollFds = new Uint8Array(24);
const pollView = new DataView(pollFds.buffer);
[fdA, fdB, 0].forEach((fd, i) => {
  pollView.setInt32(i * 8, fd, true);
  pollView.setInt16(i * 8 + 4, POLLIN, true);
});
const timespec = new Uint8Array(16);
const timespecView = new DataView(timespec.buffer);
const stdinRevents = () => pollView.getInt16(2 * 8 + 6, true);
const zeroTimeout = new Uint8Array(16);

/** Waits for a frame, stdin or `waitUs`; returns true when stdin closed. */
function wait(waitUs: number): boolean {
  let timeout: Uint8Array | null = null;
  if (waitUs === 0) {
    timeout = zeroTimeout;
  } else if (Number.isFinite(waitUs)) {
    const ns = Math.ceil(waitUs * 1000);
    timespecView.setUint32(0, Math.floor(ns / 1e9), true);
    timespecView.setUint32(4, 0, true);
    timespecView.setUint32(8, ns % 1e9, true);
    timespecView.setUint32(12, 0, true);
    timeout = timespec;
  }
  const ready = sys().ppoll(pollFds, 3n, timeout, null);
  return ready > 0 && (stdinRevents() & (POLLIN | POLL_FAILURES)) !== 0;
}

console.log(JSON.stringify({ event: "ready" }));
let busyPasses = 0;
for (;;) {
  const nowUs = performance.now() * 1000;
  const read = receive(ab, nowUs) + receive(ba, nowUs);
  send(ab, nowUs);
  send(ba, nowUs);
  if (read > 0) {
    if (++busyPasses % BUSY_PASSES_PER_STDIN_CHECK === 0 && wait(0)) break;
    continue;
  }
  const next = Math.min(ab.model.nextDepartureUs(), ba.model.nextDepartureUs());
  const waitUs = next - performance.now() * 1000;
  if (waitUs <= 0) continue;
  if (waitUs <= SPIN_US) {
    if (wait(0)) break; // a frame may have come meanwhile; the loop takes it next pass
    continue;
  }
  if (wait(waitUs - SPIN_US)) break;
}
const report = (d: Direction) => ({ ...d.model.counters, ...d.stats, pending: d.model.pending });
console.log(JSON.stringify({ event: "exit", ab: report(ab), ba: report(ba) }));
sys().close(fdA);
sys().close(fdB);
