import assert from "node:assert/strict";
import type { CommandRunner } from "./command_runner.ts";
import { deviceForwarding, parseNetconfForwarding } from "./device_forwarding.ts";

Deno.test("parseNetconfForwarding() reads the flag of ip netconf output", () => {
  const line = (value: string) =>
    `inet tun0 forwarding ${value} rp_filter off mc_forwarding off proxy_neigh off ignore_routes_with_linkdown off \n`;
  assert.equal(parseNetconfForwarding(line("on")), true);
  assert.equal(parseNetconfForwarding(line("off")), false);
  // mc_forwarding is another flag; its value must not be taken for forwarding's.
  assert.equal(parseNetconfForwarding("inet tun0 mc_forwarding on rp_filter off"), undefined);
  assert.equal(parseNetconfForwarding(""), undefined);
});

Deno.test("deviceForwarding() asks ip about the one device and fails in one line", async () => {
  const asked: (readonly string[])[] = [];
  const runner: CommandRunner = (argv) => {
    asked.push(argv);
    return Promise.resolve({
      code: 0,
      stdout: "inet tun3 forwarding on rp_filter off\n",
      stderr: "",
    });
  };
  assert.equal(await deviceForwarding("tun3", runner), true);
  assert.deepEqual(asked, [["ip", "-4", "netconf", "show", "dev", "tun3"]]);
  const failing: CommandRunner = () =>
    Promise.resolve({ code: 1, stdout: "", stderr: "Device does not exist\n" });
  await assert.rejects(
    deviceForwarding("tun3", failing),
    /^Error: 'ip -4 netconf show dev tun3' failed: Device does not exist$/,
  );
  await assert.rejects(deviceForwarding("a b", runner), TypeError);
});
