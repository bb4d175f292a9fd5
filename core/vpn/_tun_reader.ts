/**
 * Module worker that reads a TUN file descriptor: it blocks in `poll()` (on the
 * device and a wake-up pipe), then drains every packet that is ready with
 * non-blocking reads and posts them to the main thread as one transferred
 * ArrayBuffer. Blocking here keeps the per-packet cost off the main thread's
 * event loop; {@link ReaderStart} says what the main thread hands over.
 * @module
 */
import { ERRNO, errno, errnoText, libc, POLL_FAILURES, POLLIN } from "./_libc.ts";

/** The first (and only) message the main thread sends. */
export interface ReaderStart {
  /** Non-blocking TUN file descriptor; the main thread keeps ownership. */
  fd: number;
  /** Read end of a pipe: readable means stop. */
  wakeFd: number;
  /** Bytes before each packet to strip (macOS utun's address family). */
  headerBytes: number;
  /** Int32 [stop flag, batches consumed]: flow control and stop without the event loop. */
  control: SharedArrayBuffer;
}

/** What the worker posts back. */
export type ReaderMessage =
  | { kind: "packets"; data: ArrayBuffer; spans: Uint32Array }
  | { kind: "failed"; message: string }
  | { kind: "stopped" };

/** Index of the stop flag in {@link ReaderStart.control}. */
export const STOP = 0;
/** Index of the main thread's count of batches taken off its queue. */
export const CONSUMED = 1;

// The largest IPv4/IPv6 packet without jumbograms: a read this large never truncates,
// whatever MTU someone sets on the interface later.
const MAX_READ = 65_535 + 4;
const MAX_READ_ARG = BigInt(MAX_READ);
// Room for ~135 packets of 1,420 bytes per message: amortises one postMessage
// over a whole burst, while a lone packet still costs only a copy of itself.
const SCRATCH_BYTES = 256 * 1024;
// Batches posted but not yet taken by the consumer. Past this the worker stops
// reading and the kernel's queue (txqueuelen, 500 packets) drops, as a real NIC would,
// instead of this process growing without bound.
const MAX_IN_FLIGHT = 64;

interface WorkerScope {
  onmessage: ((event: MessageEvent<ReaderStart>) => void) | null;
  postMessage(message: ReaderMessage, transfer?: Transferable[]): void;
  close(): void;
}
const scope = self as unknown as WorkerScope;

scope.onmessage = (event) => {
  scope.onmessage = null;
  let outcome: ReaderMessage = { kind: "stopped" };
  try {
    readUntilStopped(event.data);
  } catch (error) {
    outcome = { kind: "failed", message: (error as Error).message };
  }
  scope.postMessage(outcome);
  scope.close();
};

function readUntilStopped(start: ReaderStart): void {
  const c = libc();
  const control = new Int32Array(start.control);
  const scratch = new Uint8Array(SCRATCH_BYTES);
  // struct pollfd { int fd; short events; short revents; } x 2
  const fds = new Uint8Array(16);
  const view = new DataView(fds.buffer);
  view.setInt32(0, start.fd, true);
  view.setInt16(4, POLLIN, true);
  view.setInt32(8, start.wakeFd, true);
  view.setInt16(12, POLLIN, true);
  let posted = 0;
  while (Atomics.load(control, STOP) === 0) {
    const consumed = Atomics.load(control, CONSUMED);
    if (posted - consumed >= MAX_IN_FLIGHT) {
      Atomics.wait(control, CONSUMED, consumed);
      continue;
    }
    if (c.poll(fds, 2, -1) < 0) {
      const code = errno();
      if (code === ERRNO.EINTR) continue;
      throw new Error(`poll failed: ${errnoText(code)}`);
    }
    if (view.getInt16(14, true) !== 0) break;
    const revents = view.getInt16(6, true);
    if (revents & POLL_FAILURES) throw new Error("the device reported an error (was it deleted?)");
    const spans: number[] = [];
    let used = 0;
    while (SCRATCH_BYTES - used >= MAX_READ) {
      const n = Number(c.read(start.fd, scratch.subarray(used), MAX_READ_ARG));
      if (n < 0) {
        const code = errno();
        if (code === ERRNO.EAGAIN) break;
        if (code === ERRNO.EINTR) continue;
        throw new Error(`read failed: ${errnoText(code)}`);
      }
      if (n <= start.headerBytes) continue;
      spans.push(used + start.headerBytes, n - start.headerBytes);
      used += n;
    }
    if (spans.length === 0) continue;
    const data = scratch.slice(0, used).buffer;
    const spanArray = new Uint32Array(spans);
    scope.postMessage({ kind: "packets", data, spans: spanArray }, [data, spanArray.buffer]);
    posted++;
  }
}
