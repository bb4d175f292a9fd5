import assert from "node:assert/strict";
import { Output } from "../output.ts";
import { resolveServerAddrs } from "./server_addrs.ts";

class RecordingOutput extends Output {
  readonly warnings: string[] = [];
  constructor() {
    super(true);
  }
  override warn(message: string): void {
    this.warnings.push(message);
  }
}

const notFound = () =>
  Promise.reject(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }));

Deno.test("resolveServerAddrs() resolves names in order and passes IP addresses through", async () => {
  const asked: string[] = [];
  const out = new RecordingOutput();
  const addrs = await resolveServerAddrs(
    [{ hostname: "server.example", port: 7000 }, { hostname: "::1", port: 7001 }],
    out,
    (name) => {
      asked.push(name);
      return Promise.resolve("192.0.2.7");
    },
  );
  assert.deepEqual(addrs, [{ hostname: "192.0.2.7", port: 7000 }, { hostname: "::1", port: 7001 }]);
  assert.deepEqual(asked, ["server.example"]);
  assert.deepEqual(out.warnings, []);
});

Deno.test("resolveServerAddrs() names the flag and the value of a name that does not resolve", async () => {
  await assert.rejects(
    () =>
      resolveServerAddrs(
        [{ hostname: "no.such.host.invalid", port: 7000 }],
        new RecordingOutput(),
        notFound,
      ),
    (error: Error) =>
      error.message === "Cannot resolve --server-addr 'no.such.host.invalid:7000': no such host",
  );
  const out = new RecordingOutput();
  const addrs = await resolveServerAddrs(
    [{ hostname: "typo.example", port: 1 }, { hostname: "127.0.0.1", port: 2 }],
    out,
    notFound,
  );
  assert.deepEqual(addrs, [{ hostname: "127.0.0.1", port: 2 }]);
  assert.deepEqual(out.warnings, [
    "cannot resolve --server-addr 'typo.example:1': no such host; trying the others",
  ]);
});
