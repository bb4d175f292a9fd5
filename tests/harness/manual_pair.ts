/**
 * Runs a manual-mode client and server and pastes their blocks to each other,
 * as a person would, through their standard input. The processes are started
 * by a caller-supplied function, so the same driver runs them on loopback or
 * inside network namespaces.
 * @module
 */
import { FORWARDING_PERMISSION_FLAGS } from "./tunnel_process.ts";

/** Deno flags of a manual-mode process: the same as every forwarding command's. */
export const MANUAL_PERMISSION_FLAGS: readonly string[] = FORWARDING_PERMISSION_FLAGS;

/** Starts `deno <args>` somewhere (loopback, or `ip netns exec`). */
export type DenoSpawner = (denoArgs: string[]) => Deno.ChildProcess;

/** One side's output, collected as lines. */
export interface ManualSide {
  process: Deno.ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout line matching, or rejects when the process ends first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

/** A running manual pair. */
export interface ManualPair extends AsyncDisposable {
  client: ManualSide;
  server: ManualSide;
  /** When the client printed its offer's END line (ms, performance.now()). */
  offerPrintedAt: Promise<number>;
  stop(): Promise<void>;
}

function watch(
  process: Deno.ChildProcess,
): ManualSide & { onLine: (f: (l: string) => void) => void } {
  const side = {
    process,
    stdout: [] as string[],
    stderr: [] as string[],
    listeners: [] as ((l: string) => void)[],
    ended: false,
  };
  const read = async (stream: ReadableStream<Uint8Array>, into: string[], notify: boolean) => {
    let buffered = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffered += text;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        into.push(line);
        if (notify) side.listeners.forEach((f) => f(line));
      }
    }
    if (notify) {
      side.ended = true;
      side.listeners.forEach((f) => f(""));
    }
  };
  read(process.stdout, side.stdout, true).catch(() => {});
  read(process.stderr, side.stderr, false).catch(() => {});
  return {
    process,
    stdout: side.stdout,
    stderr: side.stderr,
    onLine: (f) => side.listeners.push(f),
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of side.stdout) {
            const match = pattern.exec(line);
            if (match) return resolve(match), true;
          }
          if (side.ended) {
            reject(new Error(`process ended before ${pattern}: ${side.stderr.join(" | ")}`));
            return true;
          }
          return false;
        };
        if (check()) return;
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}: ${side.stderr.join(" | ")}`)),
          timeoutMs,
        );
        side.listeners.push(() => check() && clearTimeout(timer));
      });
    },
  };
}

/** Forwards every complete block printed by `from` to `to`'s standard input. */
function paste(
  from: ReturnType<typeof watch>,
  to: Deno.ChildProcess,
  label: string,
  onPasted?: () => void,
) {
  const writer = to.stdin.getWriter();
  let block: string[] | undefined;
  from.onLine((line) => {
    if (line === `-----BEGIN ${label}-----`) block = [];
    if (!block) return;
    block.push(line);
    if (line === `-----END ${label}-----`) {
      onPasted?.();
      writer.write(new TextEncoder().encode(block.join("\n") + "\n")).catch(() => {});
      block = undefined;
    }
  });
}

/**
 * Starts the client (which prints an offer) and the server (which reads it and
 * prints an answer), and pastes each block into the other.
 */
export function startManualPair(
  spawnClient: DenoSpawner,
  spawnServer: DenoSpawner,
  mainModule: string,
  config: string,
  clientArgs: string[],
  serverArgs: string[],
): ManualPair {
  const args = (
    cli: string[],
  ) => ["run", "--no-prompt", "--config", config, ...MANUAL_PERMISSION_FLAGS, mainModule, ...cli];
  return pairManualProcesses(
    spawnClient(args(["client", "manual", ...clientArgs])),
    spawnServer(args(["server", "manual", ...serverArgs])),
  );
}

/**
 * Pastes the blocks of a manual-mode client and server that are already
 * running (with piped stdin, stdout and stderr) into each other.
 */
export function pairManualProcesses(
  clientProcess: Deno.ChildProcess,
  serverProcess: Deno.ChildProcess,
): ManualPair {
  const client = watch(clientProcess);
  const server = watch(serverProcess);
  let offerPrinted: (t: number) => void;
  const offerPrintedAt = new Promise<number>((r) => offerPrinted = r);
  paste(client, server.process, "TUNNEL MANUAL OFFER", () => offerPrinted(performance.now()));
  paste(server, client.process, "TUNNEL MANUAL ANSWER");
  const stop = async () => {
    for (const side of [client, server]) {
      try {
        side.process.kill("SIGINT");
      } catch { /* already exited */ }
    }
    const kill = setTimeout(() => {
      for (const side of [client, server]) {
        try {
          side.process.kill("SIGKILL");
        } catch { /* exited */ }
      }
    }, 3_000);
    await Promise.all([client.process.status, server.process.status]);
    clearTimeout(kill);
    for (const side of [client, server]) await side.process.stdin.close().catch(() => {});
  };
  return { client, server, offerPrintedAt, stop, [Symbol.asyncDispose]: stop };
}
