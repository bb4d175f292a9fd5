import assert from "node:assert/strict";
import { parseConfig } from "../config.ts";
import { UsageError } from "../usage_error.ts";
import { DEFAULT_STUN_SERVERS } from "../settings/ice_options.ts";
import { resolveServerManualSettings } from "./server_manual.ts";

const CONFIG = parseConfig(
  `role = "server"
mode = "manual"
[manual]
stun_servers = ["198.51.100.1:3478"]
[manual.allowed_sources]
tcp = ["127.0.0.0/8"]
udp = ["10.0.0.0/8"]
`,
  "s.toml",
  "server",
  "manual",
);

/** Asserts `resolve` throws a {@linkcode UsageError} whose message matches `message`. */
function throwsAsUsage(resolve: () => unknown, message: RegExp): void {
  assert.throws(
    resolve,
    (error: Error) => error instanceof UsageError && message.test(error.message),
  );
}

const texts = (list: { networks: readonly { text: string }[] }) => list.networks.map((n) => n.text);

Deno.test("resolveServerManualSettings() reads the config file's allowlists and STUN servers", () => {
  const settings = resolveServerManualSettings({}, CONFIG);
  assert.deepEqual(texts(settings.allowedTcp), ["127.0.0.0/8"]);
  assert.deepEqual(texts(settings.allowedUdp), ["10.0.0.0/8"]);
  assert.deepEqual(settings.ice, { stunServers: ["198.51.100.1:3478"], hostAddresses: undefined });
  assert.equal(settings.offerFile, undefined);
});

Deno.test("resolveServerManualSettings() takes flags over the config file, list by list", () => {
  const settings = resolveServerManualSettings({
    allowedTcp: ["192.168.0.0/16"],
    stunServer: ["stun.example.net:3478"],
    hostCandidate: ["192.0.2.7"],
    offerFile: "offer.txt",
  }, CONFIG);
  assert.deepEqual(texts(settings.allowedTcp), ["192.168.0.0/16"]);
  assert.deepEqual(texts(settings.allowedUdp), ["10.0.0.0/8"]);
  assert.deepEqual(settings.ice, {
    stunServers: ["stun.example.net:3478"],
    hostAddresses: ["192.0.2.7"],
  });
  assert.equal(settings.offerFile, "offer.txt");
  assert.deepEqual(resolveServerManualSettings({ stun: false }, CONFIG).ice.stunServers, []);
});

Deno.test("resolveServerManualSettings() without a config uses the public STUN servers", () => {
  const settings = resolveServerManualSettings({ allowedUdp: ["::1/128"] });
  assert.deepEqual(settings.ice.stunServers, DEFAULT_STUN_SERVERS);
  assert.deepEqual(texts(settings.allowedTcp), []);
});

Deno.test("resolveServerManualSettings() refuses no allowlist and names bad values' flags", () => {
  throwsAsUsage(
    () => resolveServerManualSettings({}),
    /^No allowed networks: pass --allowed-tcp and\/or --allowed-udp/,
  );
  throwsAsUsage(
    () => resolveServerManualSettings({ allowedTcp: ["127.0.0.0/33"] }),
    /^Invalid CIDR '127\.0\.0\.0\/33': prefix must be 0 to 32/,
  );
  throwsAsUsage(
    () => resolveServerManualSettings({ stun: false, stunServer: ["a:1"] }, CONFIG),
    /^Use either --no-stun or --stun-server, not both$/,
  );
  throwsAsUsage(
    () => resolveServerManualSettings({ hostCandidate: ["eth0"] }, CONFIG),
    /^Invalid --host-candidate 'eth0': not an IP address$/,
  );
});
