import assert from "node:assert/strict";
import { runCommand, startSshd } from "../harness/mod.ts";
import { haveProgram, openTunnel } from "./_fixtures.ts";

const isRoot =
  new TextDecoder().decode(new Deno.Command("id", { args: ["-u"] }).outputSync().stdout)
    .trim() === "0";
const canRunSshd = haveProgram("sshd") && haveProgram("ssh") && isRoot;
if (!canRunSshd) {
  console.log("skipping SSH tests: needs root and Debian's openssh-server/openssh-client");
}

Deno.test({
  name: "SSH through the tunnel runs a remote command and copies 50 MB intact with scp",
  ignore: !canRunSshd,
  async fn() {
    await using sshd = await startSshd();
    await using tunnel = await openTunnel(`tcp://127.0.0.1:${sshd.port}`);
    const port = tunnel.client.localPort;

    const remote = await runCommand("ssh", {
      args: [...sshd.sshArgs(port), "echo", "hello-from-$(hostname -s)"],
      timeoutMs: 30_000,
    });
    assert.equal(remote.code, 0, remote.stderr);
    assert.match(remote.stdout, /^hello-from-/);

    const dir = await Deno.makeTempDir();
    try {
      const data = new Uint8Array(50 * 1024 * 1024);
      for (let off = 0; off < data.length; off += 65_536) {
        crypto.getRandomValues(data.subarray(off, off + 65_536));
      }
      await Deno.writeFile(`${dir}/upload.bin`, data);
      const up = await runCommand("scp", {
        args: [...sshd.scpArgs(port), `${dir}/upload.bin`, `${sshd.destination}:${dir}/remote.bin`],
        timeoutMs: 120_000,
      });
      assert.equal(up.code, 0, up.stderr);
      const down = await runCommand("scp", {
        args: [
          ...sshd.scpArgs(port),
          `${sshd.destination}:${dir}/remote.bin`,
          `${dir}/download.bin`,
        ],
        timeoutMs: 120_000,
      });
      assert.equal(down.code, 0, down.stderr);
      const digest = async (p: string) =>
        new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(p))).join();
      const expected = await digest(`${dir}/upload.bin`);
      assert.equal(await digest(`${dir}/remote.bin`), expected);
      assert.equal(await digest(`${dir}/download.bin`), expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
