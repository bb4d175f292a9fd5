import assert from "node:assert/strict";
import { Command } from "commander";
import { UsageError } from "../usage_error.ts";
import { dhtOptions, MAX_DHT_BOOTSTRAP, PUBLIC_DHT_BOOTSTRAP, resolveDht } from "./dht_flags.ts";

Deno.test("DHT flags: off unless asked; --dht means the public bootstrap nodes", () => {
  assert.equal(resolveDht({}, {}), undefined);
  const on = resolveDht({ dht: true }, {});
  assert.equal(on?.publicBootstrap, true);
  assert.equal(on?.bootstrap.length, PUBLIC_DHT_BOOTSTRAP.length);
  assert.deepEqual(on?.bootstrap[0], { hostname: "router.bittorrent.com", port: 6881 });
});

Deno.test("DHT flags: --dht-bootstrap implies --dht and replaces the config's list; --no-dht wins over the config", () => {
  assert.deepEqual(resolveDht({ dhtBootstrap: ["10.0.0.1:6881", "[fd00::2]:7000"] }, {}), {
    bootstrap: [{ hostname: "10.0.0.1", port: 6881 }, { hostname: "fd00::2", port: 7000 }],
    publicBootstrap: false,
  });
  assert.deepEqual(
    resolveDht({ dhtBootstrap: ["10.0.0.9:1"] }, { dht_bootstrap: ["10.0.0.1:6881"] })?.bootstrap,
    [{ hostname: "10.0.0.9", port: 1 }],
  );
  assert.deepEqual(resolveDht({}, { dht_bootstrap: ["10.0.0.1:6881"] })?.bootstrap, [
    { hostname: "10.0.0.1", port: 6881 },
  ]);
  assert.equal(resolveDht({}, { dht: true })?.publicBootstrap, true);
  assert.equal(resolveDht({ dht: false }, { dht: true, dht_bootstrap: ["10.0.0.1:1"] }), undefined);
});

Deno.test("DHT flags: contradictions and bad addresses are one line each", () => {
  const cases: [Parameters<typeof resolveDht>, RegExp][] = [
    [[{ dht: false, dhtBootstrap: ["10.0.0.1:1"] }, {}], /--dht-bootstrap or --no-dht/],
    [[{}, { dht: false, dht_bootstrap: ["10.0.0.1:1"] }, "c.toml"], /'c\.toml' sets both/],
    [[{ dhtBootstrap: ["10.0.0.1"] }, {}], /--dht-bootstrap/],
    [[{ dhtBootstrap: ["10.0.0.1:0"] }, {}], /port 0/],
    [[{ dhtBootstrap: ["10.0.0.1:70000"] }, {}], /--dht-bootstrap/],
    [[{}, { dht_bootstrap: [] }, "c.toml"], /names no node/],
    [[{ dhtBootstrap: Array(MAX_DHT_BOOTSTRAP + 1).fill("10.0.0.1:1") }, {}], /at most 32/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => resolveDht(...args), (error: Error) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("DHT flags: commander gives --dht, --no-dht and a repeatable --dht-bootstrap", () => {
  const parse = (args: string[]) =>
    dhtOptions(new Command().exitOverride(), "client").parse(args, { from: "user" }).opts();
  assert.deepEqual(parse([]), {});
  assert.equal(parse(["--dht"]).dht, true);
  assert.equal(parse(["--no-dht"]).dht, false);
  assert.deepEqual(parse(["--dht-bootstrap", "a:1", "--dht-bootstrap", "b:2"]).dhtBootstrap, [
    "a:1",
    "b:2",
  ]);
});
