import assert from "node:assert/strict";
import type { Command } from "commander";
import { ConfigError } from "../config.ts";
import { UsageError } from "../usage_error.ts";
import { clientIrohCommand } from "../commands/client_iroh.ts";
import { clientManualCommand } from "../commands/client_manual.ts";
import { serverIrohCommand } from "../commands/server_iroh.ts";
import { serverManualCommand } from "../commands/server_manual.ts";
import { loadModeConfig, resolveAllowedNetworks, resolveConfigPath } from "./shared_flags.ts";

/** The options of `command` as `flags: description` lines. */
function optionLines(command: Command, longs: string[]): string[] {
  return longs.map((long) => {
    const option = command.options.find((o) => o.long === long);
    return option ? `${option.flags}: ${option.description}` : `${long}: missing`;
  });
}

Deno.test("every mode command has the shared flags, spelled and described alike", () => {
  const servers = [serverIrohCommand(), serverManualCommand()];
  const clients = [clientIrohCommand(), clientManualCommand()];
  const everyMode = ["--config", "--default-config", "--verbose"];
  const serverOnly = ["--allowed-tcp", "--allowed-udp"];
  const clientOnly = ["--source", "--target"];
  const expected = optionLines(servers[0], [...everyMode, ...serverOnly]);
  assert.ok(!expected.some((line) => line.endsWith("missing")), expected.join("\n"));
  assert.deepEqual(optionLines(servers[1], [...everyMode, ...serverOnly]), expected);
  const expectedClient = optionLines(clients[0], [...everyMode, ...clientOnly]);
  assert.ok(!expectedClient.some((line) => line.endsWith("missing")), expectedClient.join("\n"));
  assert.deepEqual(optionLines(clients[1], [...everyMode, ...clientOnly]), expectedClient);
  assert.deepEqual(
    optionLines(clients[0], everyMode),
    optionLines(servers[0], everyMode),
  );
  for (const server of servers) {
    assert.ok(!server.options.some((o) => clientOnly.includes(o.long!)), server.name());
  }
});

Deno.test("resolveConfigPath() refuses --config with --default-config", () => {
  assert.equal(resolveConfigPath({}), undefined);
  assert.equal(resolveConfigPath({ config: "s.toml" }), "s.toml");
  assert.throws(
    () => resolveConfigPath({ config: "s.toml", defaultConfig: true }),
    (error: Error) =>
      error instanceof UsageError &&
      error.message === "Use either --config or --default-config, not both",
  );
});

Deno.test("loadModeConfig() loads the named file for the command's mode only", async () => {
  assert.equal(await loadModeConfig({}, "client", "manual"), undefined);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/client.toml`;
    await Deno.writeTextFile(path, 'role = "client"\nmode = "manual"\n[manual]\ntarget = "x"\n');
    const config = await loadModeConfig({ config: path }, "client", "manual");
    assert.equal(config?.values.target, "x");
    await assert.rejects(
      () => loadModeConfig({ config: path }, "client", "iroh"),
      (error: Error) =>
        error instanceof ConfigError && /mode is 'manual' but the command asks for 'iroh'/.test(
          error.message,
        ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveAllowedNetworks() takes each flag over its config list", () => {
  const config = (allowed: { tcp?: string[]; udp?: string[] }) => ({
    path: "server.toml",
    values: { allowed_sources: allowed },
  });
  const lists = resolveAllowedNetworks(
    { allowedUdp: ["::1"] },
    config({ tcp: ["127.0.0.0/8"], udp: ["10.0.0.0/8"] }),
  );
  assert.deepEqual(lists.allowedTcp.networks.map((n) => n.text), ["127.0.0.0/8"]);
  assert.deepEqual(lists.allowedUdp.networks.map((n) => n.text), ["::1"]);
  assert.throws(
    () => resolveAllowedNetworks({ allowedTcp: [] }, config({ tcp: ["127.0.0.0/8"] })),
    (error: Error) => error instanceof UsageError && /^No allowed networks/.test(error.message),
  );
});

Deno.test("resolveAllowedNetworks() names the config file and key of a bad network it holds", () => {
  const config = {
    path: "/etc/tunnel/server.toml",
    values: { allowed_sources: { udp: ["10.0.0.0/33"] } },
  };
  assert.throws(
    () => resolveAllowedNetworks({}, config),
    (error: Error) =>
      error instanceof ConfigError &&
      /^Invalid config '\/etc\/tunnel\/server\.toml': allowed_sources\.udp: Invalid CIDR '10\.0\.0\.0\/33'/
        .test(error.message),
  );
  // The same value from a flag names no file.
  assert.throws(
    () => resolveAllowedNetworks({ allowedUdp: ["10.0.0.0/33"] }, config),
    (error: Error) =>
      error instanceof UsageError && !(error instanceof ConfigError) &&
      /^Invalid CIDR '10\.0\.0\.0\/33'/.test(error.message),
  );
});
