import assert from "node:assert/strict";
import { type CommandRunner, runCommand, runCommands, systemRunner } from "./command_runner.ts";

const failing = (stderr: string): CommandRunner => () =>
  Promise.resolve({ code: 2, stdout: "", stderr });

Deno.test("runCommand() fails with one line naming the command and the tool's reason", async () => {
  await assert.rejects(
    runCommand(
      ["ip", "route", "add", "10.1.0.0/16", "dev", "tun0"],
      failing("RTNETLINK answers: File exists\n"),
    ),
    { message: "'ip route add 10.1.0.0/16 dev tun0' failed: RTNETLINK answers: File exists" },
  );
});

Deno.test("runCommand() skips iptables' usage hint and reports the exit status without stderr", async () => {
  await assert.rejects(
    runCommand(["iptables", "-X"], failing("iptables: Bad rule.\nTry `iptables -h' or more\n")),
    {
      message: "'iptables -X' failed: iptables: Bad rule.",
    },
  );
  await assert.rejects(runCommand(["true"], failing("")), {
    message: "'true' failed: exit status 2",
  });
});

Deno.test("runCommands() stops at the first failure", async () => {
  const seen: string[] = [];
  const runner: CommandRunner = (argv) => {
    seen.push(argv[0]);
    return Promise.resolve({ code: argv[0] === "b" ? 1 : 0, stdout: "", stderr: "no" });
  };
  await assert.rejects(runCommands([["a"], ["b"], ["c"]], runner), { message: "'b' failed: no" });
  assert.deepEqual(seen, ["a", "b"]);
});

Deno.test("systemRunner runs a real command and names a missing one", async () => {
  const out = await systemRunner(["sh", "-c", "echo out; echo err >&2; exit 3"]);
  assert.deepEqual(out, { code: 3, stdout: "out\n", stderr: "err\n" });
  await assert.rejects(systemRunner(["no-such-tool-xyz"]), {
    message: "Cannot run 'no-such-tool-xyz': not found on PATH",
  });
});
