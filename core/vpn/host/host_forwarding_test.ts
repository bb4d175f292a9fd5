import assert from "node:assert/strict";
import type { CommandRunner } from "./command_runner.ts";
import { enableHostForwarding, type SysctlFile } from "./host_forwarding.ts";

/** iptables as a list of rule lines per table, failing commands that contain `failOn`. */
function fakeHost(policy: string, failOn?: string) {
  const tables: Record<string, string[]> = { filter: [], nat: [] };
  let ipForward = "0";
  const sysctl: SysctlFile = {
    read: () => Promise.resolve(ipForward),
    write: (value) => Promise.resolve(void (ipForward = value)),
  };
  const runner: CommandRunner = (argv) => {
    const args = argv.slice(2); // "iptables -w"
    const table = args[0] === "-t" ? args[1] : "filter";
    const [op, chain, ...spec] = args[0] === "-t" ? args.slice(2) : args;
    const line = [chain, ...spec.map((w) => w.includes(":") ? `"${w}"` : w)].join(" ");
    const ok = (stdout = "") => Promise.resolve({ code: 0, stdout, stderr: "" });
    if (failOn && argv.join(" ").includes(failOn)) {
      return Promise.resolve({
        code: 1,
        stdout: "",
        stderr: "iptables: No chain/target/match by that name.\n",
      });
    }
    if (op === "-S") {
      const head = chain === "FORWARD" ? `-P FORWARD ${policy}\n` : "";
      return ok(head + tables[table].map((rule) => `-A ${rule}\n`).join(""));
    }
    if (op === "-A") tables[table].push(line);
    if (op === "-I") tables[table].unshift(line);
    if (op === "-D") {
      const at = tables[table].indexOf(line);
      if (at < 0) return Promise.resolve({ code: 1, stdout: "", stderr: "iptables: Bad rule.\n" });
      tables[table].splice(at, 1);
    }
    return ok();
  };
  return { tables, sysctl, runner, ipForward: () => ipForward };
}

const options = { network: "10.0.0.0/24", tunName: "tun0", isAlive: () => false };

Deno.test("enableHostForwarding() adds the rules and close() removes them and restores ip_forward", async () => {
  const host = fakeHost("DROP");
  const forwarding = await enableHostForwarding({
    ...options,
    runner: host.runner,
    sysctl: host.sysctl,
    pid: 5,
  });
  assert.equal(host.ipForward(), "1");
  assert.equal(host.tables.filter.length, 2);
  assert.equal(host.tables.nat.length, 1);
  await forwarding.close();
  await forwarding.close();
  assert.deepEqual(host.tables, { filter: [], nat: [] });
  assert.equal(host.ipForward(), "0");
});

Deno.test("enableHostForwarding() undoes a half-done setup and says which command failed", async () => {
  const host = fakeHost("DROP", "conntrack");
  await assert.rejects(
    enableHostForwarding({ ...options, runner: host.runner, sysctl: host.sysctl, pid: 5 }),
    /^Error: Cannot set up forwarding: 'iptables -w -t filter -I FORWARD -o tun0 .*' failed: iptables: No chain/,
  );
  assert.deepEqual(host.tables, { filter: [], nat: [] });
  assert.equal(host.ipForward(), "0");
});

Deno.test("enableHostForwarding() leaves ip_forward on while another live run uses it", async () => {
  const host = fakeHost("ACCEPT");
  const first = await enableHostForwarding({
    ...options,
    runner: host.runner,
    sysctl: host.sysctl,
    pid: 5,
    isAlive: () => true,
  });
  const second = await enableHostForwarding({
    ...options,
    tunName: "tun1",
    runner: host.runner,
    sysctl: host.sysctl,
    pid: 6,
    isAlive: () => true,
  });
  await first.close();
  assert.equal(host.ipForward(), "1");
  assert.equal(host.tables.nat.length, 1);
  await second.close();
  assert.equal(host.ipForward(), "0");
  assert.deepEqual(host.tables.nat, []);
});
