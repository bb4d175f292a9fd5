import assert from "node:assert/strict";
import { readCappedTextFile } from "./capped_read.ts";

const MAX_TOKEN_FILE_BYTES = 4 << 10;
const MAX_LIST_FILE_BYTES = 1 << 20;

Deno.test("readCappedTextFile() reads a file up to its limit, byte for byte", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = "é".repeat(512) + "\n"; // 1025 bytes
    await Deno.writeTextFile(`${dir}/ok`, text);
    assert.equal(
      await readCappedTextFile(`${dir}/ok`, { what: "token file", maxBytes: 1025 }),
      text,
    );
    await Deno.writeTextFile(`${dir}/empty`, "");
    assert.equal(await readCappedTextFile(`${dir}/empty`, { what: "token file", maxBytes: 1 }), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCappedTextFile() refuses a file past the limit with one line naming file and limit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/big`, new Uint8Array(MAX_TOKEN_FILE_BYTES + 1));
    await assert.rejects(
      () =>
        readCappedTextFile(`${dir}/big`, { what: "token file", maxBytes: MAX_TOKEN_FILE_BYTES }),
      (error: Error) =>
        error.message === `Cannot read token file '${dir}/big': larger than the limit of 4 KiB`,
    );
    await Deno.writeFile(`${dir}/list`, new Uint8Array(MAX_LIST_FILE_BYTES + 1));
    await assert.rejects(
      () =>
        readCappedTextFile(`${dir}/list`, { what: "tokens file", maxBytes: MAX_LIST_FILE_BYTES }),
      /^Error: Cannot read tokens file '.*list': larger than the limit of 1 MiB$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "readCappedTextFile() refuses a FIFO with no writer and a device at once, with one line",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const fifo = `${dir}/fifo`;
      assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
      // Opening a FIFO no one writes to blocks: the bound proves it was never opened.
      for (const path of [fifo, "/dev/zero"]) {
        const started = performance.now();
        await assert.rejects(
          () => readCappedTextFile(path, { what: "secret key file", maxBytes: 4096 }),
          (error: Error) =>
            error.message ===
              `Cannot read secret key file '${path}': not a regular file (a pipe, socket or device); name a file`,
        );
        assert.ok(performance.now() - started < 1_000);
      }
      // A symbolic link to a regular file is read.
      await Deno.writeTextFile(`${dir}/real`, "key\n");
      await Deno.symlink(`${dir}/real`, `${dir}/link`);
      assert.equal(await readCappedTextFile(`${dir}/link`, { what: "key", maxBytes: 10 }), "key\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readCappedTextFile() names a missing file and a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => readCappedTextFile(`${dir}/none`, { what: "config", maxBytes: 10 }),
      /^Error: Cannot read config '.*none': no such file$/,
    );
    await assert.rejects(
      () => readCappedTextFile(dir, { what: "config", maxBytes: 10 }),
      /Cannot read config '.*': it is a directory/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
