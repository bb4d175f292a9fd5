import { raceTimeout, TIMED_OUT } from "./_timeout.ts";

/** Which output stream a line came from. */
export type OutputStream = "stdout" | "stderr";

/** Options for {@linkcode ManagedProcess.spawn}. */
export interface ManagedProcessOptions {
  /** Arguments after the command. */
  args?: string[];
  /** Working directory of the child. */
  cwd?: string | URL;
  /** Extra environment variables (merged into the inherited environment). */
  env?: Record<string, string>;
  /** Lines kept per stream; older lines are dropped. Default 10,000. */
  maxLines?: number;
  /** First signal `stop()` sends. Default `SIGINT` (sshd ignores it: use `SIGTERM` there). */
  stopSignal?: Deno.Signal;
  /** How long `stop()` waits after the first signal before `SIGKILL`. Default 3,000 ms. */
  graceMs?: number;
}

/** Options for {@linkcode ManagedProcess.prototype.waitForLine}. */
export interface WaitForLineOptions {
  /** Stream to watch. Default: both. */
  stream?: OutputStream;
  /** Give up after this long. Default 20,000 ms. */
  timeoutMs?: number;
}

// A process that closes its output but keeps a grandchild holding the pipe (sshd's
// session children do) must not hang stop(): past this grace the readers are cancelled.
const OUTPUT_DRAIN_MS = 1_000;
// Bounds one line so a child writing binary without newlines cannot grow memory forever.
const MAX_LINE_CHARS = 1 << 20;

interface Waiter {
  match: (line: string, stream: OutputStream) => boolean;
  resolve: (line: string) => void;
  reject: (error: Error) => void;
}

/**
 * A child process whose stdout and stderr are drained into line buffers from the
 * moment it starts (so a chatty child never blocks on a full pipe), with a bounded
 * wait for a line and a `stop()` that escalates to SIGKILL and releases every resource.
 *
 * @example
 * ```ts
 * const proc = ManagedProcess.spawn("socat", { args: ["-d", "-d", "STDIO", "STDIO"] });
 * try {
 *   await proc.waitForLine(/starting data transfer loop/, { stream: "stderr" });
 * } finally {
 *   await proc.stop();
 * }
 * ```
 */
export class ManagedProcess implements AsyncDisposable {
  /** The command that was run. */
  readonly command: string;
  /** The underlying Deno child process. */
  readonly process: Deno.ChildProcess;
  /** Resolves when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  #lines: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
  #maxLines: number;
  #stopSignal: Deno.Signal;
  #graceMs: number;
  #waiters = new Set<Waiter>();
  #readers: ReadableStreamDefaultReader<string>[] = [];
  #output: Promise<void>;
  #exit: Deno.CommandStatus | undefined;
  #outputEnded = false;
  #stopping: Promise<Deno.CommandStatus> | undefined;

  private constructor(command: string, options: ManagedProcessOptions) {
    this.command = command;
    this.#maxLines = options.maxLines ?? 10_000;
    this.#stopSignal = options.stopSignal ?? "SIGINT";
    this.#graceMs = options.graceMs ?? 3_000;
    this.process = new Deno.Command(command, {
      args: options.args ?? [],
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.status = this.process.status.then((status) => (this.#exit = status));
    this.#output = Promise.all([
      this.#pump(this.process.stdout, "stdout"),
      this.#pump(this.process.stderr, "stderr"),
    ]).then(() => {
      this.#outputEnded = true;
      return this.#rejectWaiters();
    });
  }

  /**
   * Starts `command` with piped output.
   *
   * @throws {Deno.errors.NotFound} when the command does not exist.
   */
  static spawn(command: string, options: ManagedProcessOptions = {}): ManagedProcess {
    return new ManagedProcess(command, options);
  }

  /** Exit status once the process has exited, else `undefined`. */
  get exitStatus(): Deno.CommandStatus | undefined {
    return this.#exit;
  }

  /** The lines seen so far on one stream (a copy). */
  lines(stream: OutputStream = "stdout"): string[] {
    return [...this.#lines[stream]];
  }

  /** Everything kept from stderr, joined with newlines. */
  stderrText(): string {
    return this.#lines.stderr.join("\n");
  }

  /**
   * Resolves with the first line (already seen or future) that matches.
   *
   * @throws {Error} "Cannot wait for line: ..." when the output ends or time runs out;
   * the message carries the collected stderr.
   */
  async waitForLine(
    match: RegExp | string | ((line: string, stream: OutputStream) => boolean),
    options: WaitForLineOptions = {},
  ): Promise<string> {
    const test = typeof match === "function"
      ? match
      : typeof match === "string"
      ? (line: string) => line === match
      : (line: string) => match.test(line);
    const wanted = (line: string, stream: OutputStream) =>
      (options.stream === undefined || options.stream === stream) && test(line, stream);
    for (const stream of ["stdout", "stderr"] as const) {
      const seen = this.#lines[stream].find((line) => wanted(line, stream));
      if (seen !== undefined) return seen;
    }
    const timeoutMs = options.timeoutMs ?? 20_000;
    let waiter: Waiter | undefined;
    const found = new Promise<string>((resolve, reject) => {
      waiter = { match: wanted, resolve, reject };
      this.#waiters.add(waiter);
    });
    if (this.#outputEnded) this.#rejectWaiters();
    try {
      const result = await raceTimeout(found, timeoutMs);
      if (result === TIMED_OUT) {
        throw new Error(this.#describe(`no matching line within ${timeoutMs} ms`));
      }
      return result;
    } finally {
      this.#waiters.delete(waiter!);
    }
  }

  /**
   * Sends the stop signal, then SIGKILL after the grace period; awaits the exit and
   * the end of the output. Safe to call more than once and after the process exited.
   */
  stop(options: { signal?: Deno.Signal; graceMs?: number } = {}): Promise<Deno.CommandStatus> {
    this.#stopping ??= this.#stop(
      options.signal ?? this.#stopSignal,
      options.graceMs ?? this.#graceMs,
    );
    return this.#stopping;
  }

  /** Same as {@linkcode ManagedProcess.prototype.stop}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #stop(signal: Deno.Signal, graceMs: number): Promise<Deno.CommandStatus> {
    if (this.#exit === undefined) {
      this.#kill(signal);
      if ((await raceTimeout(this.status, graceMs)) === TIMED_OUT) this.#kill("SIGKILL");
    }
    const status = await this.status;
    if ((await raceTimeout(this.#output, OUTPUT_DRAIN_MS)) === TIMED_OUT) {
      await Promise.allSettled(this.#readers.map((reader) => reader.cancel()));
      await this.#output;
    }
    return status;
  }

  #kill(signal: Deno.Signal): void {
    try {
      this.process.kill(signal);
    } catch {
      // Already exited between the check and the signal: nothing to do.
    }
  }

  async #pump(stream: ReadableStream<Uint8Array>, name: OutputStream): Promise<void> {
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    this.#readers.push(reader);
    let partial = "";
    try {
      // Bounded by the child's lifetime: ends at EOF or when stop() cancels the reader.
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        partial += value;
        const parts = partial.split("\n");
        partial = parts.pop()!;
        if (partial.length > MAX_LINE_CHARS) {
          parts.push(partial);
          partial = "";
        }
        for (const line of parts) this.#push(name, line);
      }
    } catch {
      // Cancelled by stop(): the lines read so far are kept.
    } finally {
      if (partial !== "") this.#push(name, partial);
      reader.releaseLock();
      this.#readers.splice(this.#readers.indexOf(reader), 1);
    }
  }

  #push(stream: OutputStream, raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const lines = this.#lines[stream];
    lines.push(line);
    if (lines.length > this.#maxLines) lines.splice(0, lines.length - this.#maxLines);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(line, stream)) {
        this.#waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  }

  async #rejectWaiters(): Promise<void> {
    // The output ended: no line can match any more. The exit status follows the
    // end of output within moments; wait briefly so the message can name it.
    await raceTimeout(this.status, 500);
    for (const waiter of this.#waiters) {
      waiter.reject(new Error(this.#describe("the output ended before a matching line")));
    }
    this.#waiters.clear();
  }

  #describe(reason: string): string {
    const exit = this.#exit === undefined
      ? "still running"
      : `exited with code ${this.#exit.code}${this.#exit.signal ? ` (${this.#exit.signal})` : ""}`;
    const stderr = this.stderrText().trim() || "(empty)";
    const stdout = this.#lines.stdout.slice(-20).join("\n").trim() || "(empty)";
    return `Cannot wait for line from ${this.command}: ${reason}; process ${exit}\n` +
      `--- stderr ---\n${stderr}\n--- stdout (last 20 lines) ---\n${stdout}`;
  }
}
