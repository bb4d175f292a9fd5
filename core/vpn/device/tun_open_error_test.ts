import assert from "node:assert/strict";
import { TUN_PERMISSION_MESSAGE, tunOpenError } from "./tun_open_error.ts";

const errnos = { EPERM: 1, ENOENT: 2, EACCES: 13, EBUSY: 16, ENODEV: 19, EINVAL: 22 };
const context = { name: "tun0", errnos, text: "system text" };

Deno.test("tunOpenError() says root or CAP_NET_ADMIN for EPERM and EACCES, at either step", () => {
  for (const code of [1, 13]) {
    for (const step of ["open", "create"] as const) {
      assert.equal(tunOpenError(step, code, context).message, TUN_PERMISSION_MESSAGE);
    }
  }
});

Deno.test("tunOpenError() has its own line for a missing /dev/net/tun", () => {
  const message = tunOpenError("open", 2, context).message;
  assert.match(message, /^Cannot create TUN device: \/dev\/net\/tun does not exist/);
  assert.ok(!message.includes("\n"));
});

Deno.test("tunOpenError() names the interface when it is in use or not a TUN", () => {
  assert.match(tunOpenError("create", 16, context).message, /'tun0' is in use/);
  assert.match(tunOpenError("create", 22, context).message, /'tun0' exists and is not a TUN/);
});

Deno.test("tunOpenError() falls back to the system's text", () => {
  assert.equal(
    tunOpenError("create", 99, context).message,
    "Cannot create TUN device 'tun0': system text",
  );
});
