import { equal, match } from "node:assert/strict";
import { runCommand } from "./run_command.ts";
import { startSshd } from "./sshd.ts";

Deno.test("startSshd() admits the generated key: ssh runs a command", async () => {
  await using sshd = await startSshd();
  const result = await runCommand("ssh", {
    args: [...sshd.sshArgs(), "echo", "hello"],
    timeoutMs: 15_000,
  });
  equal(result.stderr, "");
  equal(result.code, 0);
  equal(result.stdout, "hello\n");
  match(sshd.log().join("\n"), /Accepted publickey for root/);
});

Deno.test("startSshd() serves scp (SFTP subsystem)", async () => {
  await using sshd = await startSshd();
  const local = `${sshd.dir}/upload.txt`;
  await Deno.writeTextFile(local, "payload\n");
  const result = await runCommand("scp", {
    args: [...sshd.scpArgs(), local, `${sshd.destination}:${sshd.dir}/copied.txt`],
    timeoutMs: 15_000,
  });
  equal(result.code, 0, result.stderr);
  equal(await Deno.readTextFile(`${sshd.dir}/copied.txt`), "payload\n");
});

Deno.test("startSshd() stop() removes its directory", async () => {
  const sshd = await startSshd();
  await sshd.stop();
  let exists = true;
  try {
    await Deno.stat(sshd.dir);
  } catch {
    exists = false;
  }
  equal(exists, false);
});
