import { equal, match, rejects } from "node:assert/strict";
import { ManagedProcess } from "./managed_process.ts";

Deno.test("ManagedProcess.waitForLine() finds a line on stderr", async () => {
  await using proc = ManagedProcess.spawn("sh", {
    args: ["-c", "echo out; echo ready >&2; exec sleep 30"],
  });
  equal(await proc.waitForLine("ready", { stream: "stderr", timeoutMs: 5_000 }), "ready");
  equal(await proc.waitForLine(/^out$/, { timeoutMs: 5_000 }), "out");
});

Deno.test("ManagedProcess.waitForLine() rejects with stderr when the process exits", async () => {
  await using proc = ManagedProcess.spawn("sh", { args: ["-c", "echo broken >&2; exit 3"] });
  await rejects(proc.waitForLine("never", { timeoutMs: 5_000 }), (error: Error) => {
    match(error.message, /output ended/);
    match(error.message, /code 3/);
    match(error.message, /broken/);
    return true;
  });
});

Deno.test("ManagedProcess.waitForLine() times out on a silent process", async () => {
  await using proc = ManagedProcess.spawn("sleep", { args: ["30"] });
  await rejects(proc.waitForLine("never", { timeoutMs: 200 }), /within 200 ms/);
});

Deno.test("ManagedProcess.stop() escalates to SIGKILL when SIGINT is ignored", async () => {
  const proc = ManagedProcess.spawn("sh", {
    args: ["-c", "trap '' INT; echo armed; exec sleep 30"],
    graceMs: 300,
  });
  await proc.waitForLine("armed", { timeoutMs: 5_000 });
  const status = await proc.stop();
  equal(status.signal, "SIGKILL");
});

Deno.test("ManagedProcess.stop() does not hang on a grandchild holding the pipe", async () => {
  // The shell exits at once; its background `sleep` keeps stdout open.
  const proc = ManagedProcess.spawn("sh", { args: ["-c", "sleep 20 & echo $!"] });
  const pid = Number(await proc.waitForLine(/^\d+$/, { timeoutMs: 5_000 }));
  try {
    const started = performance.now();
    await proc.stop();
    equal(performance.now() - started < 5_000, true);
  } finally {
    Deno.kill(pid, "SIGKILL");
  }
});
