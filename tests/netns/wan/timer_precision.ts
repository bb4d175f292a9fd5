/**
 * How late Deno wakes a waiting delay line, for a few requested waits: `setTimeout`; a
 * `ppoll()` through FFI marked non-blocking (Deno runs it on a blocking thread and
 * resolves a promise); a synchronous `ppoll()` on this thread after
 * `prctl(PR_SET_TIMERSLACK, 1 ns)` (the default slack lets the kernel wake a sleeper up to
 * 50 µs late); and a busy wait. Prints lateness percentiles in microseconds.
 *
 * ```sh
 * deno run --allow-ffi tests/netns/wan/timer_precision.ts [SAMPLES]
 * ```
 * @module
 */

const SAMPLES = Number(Deno.args[0] ?? 300);
const WAITS_US = [0, 100, 500, 1000, 5000];

const libc = Deno.dlopen("libc.so.6", {
  ppoll: { parameters: ["buffer", "u64", "buffer", "buffer"], result: "i32", nonblocking: true },
  ppollSync: { name: "ppoll", parameters: ["buffer", "u64", "buffer", "buffer"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
});
const PR_SET_TIMERSLACK = 29;

function percentiles(lateUs: number[]): string {
  const sorted = lateUs.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return `p50 ${at(0.5).toFixed(0)} p90 ${at(0.9).toFixed(0)} p99 ${at(0.99).toFixed(0)}` +
    ` max ${sorted[sorted.length - 1].toFixed(0)}`;
}

async function measure(wait: (us: number) => Promise<void>, us: number): Promise<number[]> {
  const late: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    await wait(us);
    late.push((performance.now() - start) * 1000 - us);
  }
  return late;
}

const timeout = (us: number) => new Promise<void>((resolve) => setTimeout(resolve, us / 1000));
const timespec = new BigInt64Array(2);
const setTimespec = (us: number) => {
  timespec[0] = BigInt(Math.floor(us / 1e6));
  timespec[1] = BigInt(Math.round((us % 1e6) * 1000));
  return new Uint8Array(timespec.buffer);
};
const ppoll = async (us: number) => {
  await libc.symbols.ppoll(null, 0n, setTimespec(us), null);
};
const ppollSync = (us: number) => {
  libc.symbols.ppollSync(null, 0n, setTimespec(us), null);
  return Promise.resolve();
};
const spin = (us: number) => {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) { /* busy */ }
  return Promise.resolve();
};

const ways = [
  ["setTimeout", timeout],
  ["ppoll (FFI nonblocking)", ppoll],
  ["ppoll (sync, slack 1 ns)", ppollSync],
  ["spin", spin],
] as const;
for (const [name, wait] of ways) {
  if (wait === ppollSync) libc.symbols.prctl(PR_SET_TIMERSLACK, 1n, 0n, 0n, 0n);
  for (const us of WAITS_US) {
    const late = percentiles(await measure(wait, us));
    console.log(`${name.padEnd(24)} wait ${String(us).padStart(5)} µs: late by µs ${late}`);
  }
}
libc.close();
