import assert from "node:assert/strict";
import { LockHeldError, takeInstanceLock } from "./instance_lock.ts";

Deno.test("takeInstanceLock() refuses a second holder and names the first", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/vpn.lock`;
  // Another process holds it: a child that takes the lock and waits.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `
      const { takeInstanceLock } = await import(${
        JSON.stringify(import.meta.resolve("./instance_lock.ts"))
      });
      await takeInstanceLock(${JSON.stringify(path)});
      console.log("held");
      await new Promise((r) => setTimeout(r, 30_000));
    `,
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /held/);
  await assert.rejects(
    takeInstanceLock(path),
    (error) => error instanceof LockHeldError && error.message.includes(`process ${child.pid}`),
  );
  // Killed without a chance to tidy up: its file stays, its lock does not.
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  const lock = await takeInstanceLock(path);
  assert.equal(lock.tookOverStale, true);
  assert.equal((await Deno.readTextFile(path)).trim(), String(Deno.pid));
  lock.release();
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  const again = await takeInstanceLock(path);
  assert.equal(again.tookOverStale, false);
  again.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("takeInstanceLock() says which file it cannot create", async () => {
  await assert.rejects(
    takeInstanceLock("/nonexistent-dir/vpn.lock"),
    /Cannot create lock file '\/nonexistent-dir\/vpn.lock'/,
  );
});
