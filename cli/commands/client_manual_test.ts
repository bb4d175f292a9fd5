import assert from "node:assert/strict";
import { parseConfig } from "../config.ts";
import { UsageError } from "../usage_error.ts";
import { resolveClientManualSettings } from "./client_manual.ts";

const CONFIG = parseConfig(
  `role = "client"
mode = "manual"
[manual]
stun_servers = ["198.51.100.1:3478"]
request_source = "udp://10.0.0.1:53"
target = "127.0.0.1:5353"
`,
  "c.toml",
  "client",
  "manual",
);

/** Asserts `resolve` throws a {@linkcode UsageError} whose message matches `message`. */
function throwsAsUsage(resolve: () => unknown, message: RegExp): void {
  assert.throws(
    resolve,
    (error: Error) => error instanceof UsageError && message.test(error.message),
  );
}

Deno.test("resolveClientManualSettings() reads the config file", () => {
  assert.deepEqual(resolveClientManualSettings({}, CONFIG), {
    source: { protocol: "udp", host: "10.0.0.1", port: 53 },
    target: { host: "127.0.0.1", port: 5353 },
    ice: { stunServers: ["198.51.100.1:3478"], hostAddresses: undefined },
    answerFile: undefined,
  });
});

Deno.test("resolveClientManualSettings() takes flags over the config file", () => {
  const settings = resolveClientManualSettings({
    source: "tcp://127.0.0.1:22",
    target: "127.0.0.1:0",
    stun: false,
    hostCandidate: ["::1"],
    answerFile: "answer.txt",
  }, CONFIG);
  assert.deepEqual(settings, {
    source: { protocol: "tcp", host: "127.0.0.1", port: 22 },
    target: { host: "127.0.0.1", port: 0 },
    ice: { stunServers: [], hostAddresses: ["::1"] },
    answerFile: "answer.txt",
  });
});

Deno.test("resolveClientManualSettings() names a missing setting's flag and config key", () => {
  throwsAsUsage(
    () => resolveClientManualSettings({ target: "127.0.0.1:1" }),
    /^Missing --source \(or 'request_source' in the config file\)$/,
  );
  throwsAsUsage(
    () => resolveClientManualSettings({ source: "tcp://127.0.0.1:22" }),
    /^Missing --target \(or 'target' in the config file\)$/,
  );
  // Both settings must be there before either is parsed.
  throwsAsUsage(() => resolveClientManualSettings({ source: "bogus" }), /^Missing --target/);
});

Deno.test("resolveClientManualSettings() names the flag of a bad value", () => {
  throwsAsUsage(
    () => resolveClientManualSettings({ target: "localhost" }, CONFIG),
    /^Invalid --target address 'localhost'/,
  );
  throwsAsUsage(
    () => resolveClientManualSettings({ source: "tcp://127.0.0.1" }, CONFIG),
    /^Invalid source 'tcp:\/\/127\.0\.0\.1': must be a host and a port/,
  );
  throwsAsUsage(
    () => resolveClientManualSettings({ stunServer: ["a:1"], stun: false }, CONFIG),
    /^Use either --no-stun or --stun-server, not both$/,
  );
  throwsAsUsage(
    () => resolveClientManualSettings({ hostCandidate: ["192.0.2.300"] }, CONFIG),
    /^Invalid --host-candidate '192\.0\.2\.300': not an IP address$/,
  );
});
