import assert from "node:assert/strict";
import { MAX_LIST_FILE_BYTES, MAX_TOKEN_FILE_BYTES, readUserFile } from "./user_file.ts";

Deno.test("readUserFile() reads a file up to its limit, byte for byte", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = "é".repeat(512) + "\n"; // 1025 bytes
    await Deno.writeTextFile(`${dir}/ok`, text);
    assert.equal(await readUserFile(`${dir}/ok`, "token file", 1025), text);
    await Deno.writeTextFile(`${dir}/empty`, "");
    assert.equal(await readUserFile(`${dir}/empty`, "token file", 1), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readUserFile() refuses a file past the limit with one line naming file and limit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/big`, new Uint8Array(MAX_TOKEN_FILE_BYTES + 1));
    await assert.rejects(
      () => readUserFile(`${dir}/big`, "token file", MAX_TOKEN_FILE_BYTES),
      (error: Error) =>
        error.message === `Cannot read token file '${dir}/big': larger than the limit of 4 KiB`,
    );
    await Deno.writeFile(`${dir}/list`, new Uint8Array(MAX_LIST_FILE_BYTES + 1));
    await assert.rejects(
      () => readUserFile(`${dir}/list`, "tokens file", MAX_LIST_FILE_BYTES),
      /^Error: Cannot read tokens file '.*list': larger than the limit of 1 MiB$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "readUserFile() stops reading a file whose size is unknown at the limit",
  ignore: Deno.build.os === "windows",
  async fn() {
    // /dev/zero reports size 0 and never ends: only a capped read returns.
    await assert.rejects(
      () => readUserFile("/dev/zero", "config", 4096),
      /Cannot read config '\/dev\/zero': larger than the limit of 4 KiB/,
    );
  },
});

Deno.test("readUserFile() names a missing file and a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => readUserFile(`${dir}/none`, "config", 10),
      /^Error: Cannot read config '.*none': no such file$/,
    );
    await assert.rejects(
      () => readUserFile(dir, "config", 10),
      /Cannot read config '.*': it is a directory/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
