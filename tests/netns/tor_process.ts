/**
 * One tor process of the private network, run inside its namespace from a torrc file.
 * @module
 */
import { spawnInNamespace, tool } from "./command.ts";
import { bootstrapPercent, lastProblem } from "./tor_config.ts";

/** A running tor. */
export interface TorProcess {
  /** Nickname, for messages. */
  readonly nickname: string;
  /** Its data directory (torrc, notice.log, keys). */
  readonly dataDir: string;
  /** Process id of `ip netns exec`, which execs tor: tor's own pid. */
  readonly pid: number;
  /** Exit code once it has exited, else undefined. */
  exitCode(): number | undefined;
  /** Its notice log so far ("" before tor opened it). */
  log(): Promise<string>;
  /** Its info log so far ("" when its torrc asks for none). */
  infoLog(): Promise<string>;
  /** The last `Bootstrapped N%` of its log. */
  bootstrap(): Promise<number>;
  /** Why it failed, one line: the exit status and the log's last problem. */
  failure(): Promise<string>;
  /** SIGTERM, SIGKILL after 3 s; resolves when it has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Writes `torrc` into `dataDir` and starts tor on it inside namespace `ns`. */
export async function startTor(
  ns: string,
  nickname: string,
  dataDir: string,
  torrc: string,
): Promise<TorProcess> {
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  // A restart reuses the data directory: the previous run's log (its "Bootstrapped 100%")
  // must not count for the new process. Kept beside it for diagnosis.
  for (const log of ["notice", "info"]) {
    await Deno.rename(`${dataDir}/${log}.log`, `${dataDir}/${log}.previous.log`).catch(() => {});
  }
  await Deno.writeTextFile(`${dataDir}/torrc`, torrc);
  // Debian's defaults file is for its system service; nothing may be added to ours (tor
  // wants a regular file, so /dev/null will not do).
  await Deno.writeTextFile(`${dataDir}/defaults.torrc`, "");
  const child = spawnInNamespace(ns, [
    tool("tor", "tor"),
    "-f",
    `${dataDir}/torrc`,
    "--defaults-torrc",
    `${dataDir}/defaults.torrc`,
  ], { stdout: "null", stderr: "piped" });
  let code: number | undefined;
  let stderr = "";
  const collecting = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr = (stderr + chunk).slice(-4000);
    }
  })().catch(() => {});
  const status = child.status.then(async (s) => {
    await collecting;
    code = s.code;
  });
  const log = () => Deno.readTextFile(`${dataDir}/notice.log`).catch(() => "");
  let stopping: Promise<void> | undefined;
  return {
    nickname,
    dataDir,
    pid: child.pid,
    exitCode: () => code,
    log,
    infoLog: () => Deno.readTextFile(`${dataDir}/info.log`).catch(() => ""),
    bootstrap: async () => bootstrapPercent(await log()),
    failure: async () => {
      const text = await log();
      const problem = lastProblem(text) ?? stderr.trim().split("\n").at(-1) ?? "";
      const state = code === undefined ? `at ${bootstrapPercent(text)}%` : `exited ${code}`;
      return `tor ${nickname} ${state}${problem ? `: ${problem}` : ""}`;
    },
    stop: () =>
      stopping ??= (async () => {
        if (code !== undefined) return;
        try {
          child.kill("SIGTERM");
        } catch { /* exited meanwhile */ }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* exited meanwhile */ }
        }, 3_000);
        await status;
        clearTimeout(timer);
      })(),
  };
}
