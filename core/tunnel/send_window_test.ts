import assert from "node:assert/strict";
import { SendWindow } from "./send_window.ts";

Deno.test("SendWindow lets sends run until its limit, then waits for one to finish", async () => {
  const window = new SendWindow(2);
  const first = Promise.withResolvers<void>();
  const second = Promise.withResolvers<void>();
  assert.equal(window.add(first.promise), undefined);
  const full = window.add(second.promise);
  assert.ok(full, "at the limit the caller waits");
  assert.equal(window.inFlight, 2);
  let released = false;
  full.then(() => released = true);
  await Promise.resolve();
  assert.equal(released, false);
  first.reject(new Error("a failed send frees its place too"));
  await full;
  assert.equal(window.inFlight, 1);
  second.resolve();
  await second.promise;
  await Promise.resolve();
  assert.equal(window.inFlight, 0);
});

Deno.test("SendWindow refuses a limit below one", () => {
  assert.throws(() => new SendWindow(0), RangeError);
  assert.throws(() => new SendWindow(1.5), RangeError);
});
