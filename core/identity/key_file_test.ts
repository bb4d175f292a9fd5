import assert from "node:assert/strict";
import { readSecretKeyFile, SecretKey, writeSecretKeyFile } from "./mod.ts";
import { MAX_KEY_FILE_BYTES } from "./key_file.ts";

Deno.test("writeSecretKeyFile() writes mode 0600 and refuses to overwrite without force", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/server.key`;
    const key = SecretKey.generate();
    await writeSecretKeyFile(path, key);
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.ok((await readSecretKeyFile(path)).endpointId.equals(key.endpointId));
    await assert.rejects(
      () => writeSecretKeyFile(path, SecretKey.generate()),
      Deno.errors.AlreadyExists,
    );
    await Deno.chmod(path, 0o644);
    const second = SecretKey.generate();
    await writeSecretKeyFile(path, second, { force: true });
    assert.ok((await readSecretKeyFile(path)).endpointId.equals(second.endpointId));
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSecretKeyFile() names the file when it is missing or invalid", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => readSecretKeyFile(`${dir}/none`),
      /Cannot read secret key file '.*none'/,
    );
    await Deno.writeTextFile(`${dir}/bad`, "garbage");
    await assert.rejects(() => readSecretKeyFile(`${dir}/bad`), /Invalid secret key file '.*bad'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSecretKeyFile() refuses a file larger than 4 KiB without reading it whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/huge.key`;
    // A valid key followed by padding: it must be refused for its size, not parsed.
    await Deno.writeTextFile(
      path,
      SecretKey.generate().toBase64() + "\n" + " ".repeat(MAX_KEY_FILE_BYTES),
    );
    await assert.rejects(
      () => readSecretKeyFile(path),
      (error: Error) =>
        !(error instanceof TypeError) &&
        error.message ===
          `Cannot read secret key file '${path}': larger than the limit of 4 KiB`,
    );
    if (Deno.build.os !== "windows") {
      // A device is refused before it is read at all.
      await assert.rejects(
        () => readSecretKeyFile("/dev/zero"),
        /Cannot read secret key file '\/dev\/zero': not a regular file/,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSecretKeyFile() throws TypeError for content and Error for reading", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad`, "garbage");
    await assert.rejects(() => readSecretKeyFile(`${dir}/bad`), TypeError);
    await assert.rejects(
      () => readSecretKeyFile(`${dir}/none`),
      (error: Error) => !(error instanceof TypeError) && /: no such file$/.test(error.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
