import assert from "node:assert/strict";
import { parseIp } from "../net/mod.ts";
import { AllowList } from "./allow_list.ts";
import { resolveAllowed } from "./resolver.ts";

const ip = (s: string) => parseIp(s)!;

Deno.test("IPv4-mapped IPv6 addresses are checked as the IPv4 address they carry", () => {
  const list = new AllowList(["127.0.0.0/8"]);
  assert.ok(list.allows(ip("::ffff:127.0.0.1")));
  assert.ok(list.allows(ip("::ffff:7f00:1")));
  assert.ok(!list.allows(ip("::ffff:10.0.0.1")));
  assert.ok(new AllowList(["::ffff:10.0.0.0/104"]).allows(ip("10.9.9.9")));
});

Deno.test("resolveAllowed() keeps only allowed resolved addresses", async () => {
  const list = new AllowList(["127.0.0.0/8"]);
  const resolver = (answers: string[]) => () => Promise.resolve(answers);
  assert.deepEqual(await resolveAllowed("svc", list, resolver(["10.0.0.1", "127.0.0.5"])), {
    allowed: true,
    addresses: ["127.0.0.5"],
  });
  const denied = await resolveAllowed("svc", list, resolver(["10.0.0.1", "::ffff:192.168.1.1"]));
  assert.deepEqual(denied, {
    allowed: false,
    reason: "svc (10.0.0.1, 192.168.1.1) is not in the server's allowed networks",
  });
  const failing = () => Promise.reject(new Error("NXDOMAIN"));
  assert.match(
    (await resolveAllowed("nope", list, failing) as { reason: string }).reason,
    /cannot resolve/,
  );
  assert.equal((await resolveAllowed("::ffff:127.0.0.1", list, failing)).allowed, true);
});
