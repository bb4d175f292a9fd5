import assert from "node:assert/strict";
import {
  commandPath,
  helpCommand,
  routeArgs,
  unexpectedArgumentMessage,
  wantsHelp,
} from "./command_line.ts";
import { UsageError } from "./usage_error.ts";

const COMMANDS = ["server", "client", "generate-token", "generate-server-key", "show-server-id"];
const fromFile = () => Promise.resolve("manual" as const);
const route = (args: string[]) => routeArgs(args, fromFile);

Deno.test("routeArgs() puts iroh after a role with no mode, and --help shows iroh's options", async () => {
  assert.deepEqual(await route(["server"]), ["server", "iroh"]);
  assert.deepEqual(await route(["client", "--help"]), ["client", "iroh", "--help"]);
  assert.deepEqual(await route(["server", "-v", "-h"]), ["server", "iroh", "-v", "-h"]);
  assert.deepEqual(await route(["client", "manual", "-s", "x"]), ["client", "manual", "-s", "x"]);
  assert.deepEqual(await route(["generate-token", "-c", "2"]), ["generate-token", "-c", "2"]);
  assert.deepEqual(await route([]), []);
});

Deno.test("routeArgs() takes the mode from the config file when options name none", async () => {
  assert.deepEqual(await route(["server", "-c", "s.toml"]), ["server", "manual", "-c", "s.toml"]);
  let seen: string[] = [];
  await routeArgs(["client", "--config=c.toml", "-v"], (options, role) => {
    seen = [role, ...options];
    return Promise.resolve("iroh");
  });
  assert.deepEqual(seen, ["client", "--config=c.toml", "-v"]);
});

Deno.test("routeArgs() turns `help X` into `X --help`", async () => {
  assert.deepEqual(await route(["help"]), ["--help"]);
  assert.deepEqual(await route(["help", "server"]), ["server", "iroh", "--help"]);
  assert.deepEqual(await route(["help", "client", "manual"]), ["client", "manual", "--help"]);
  assert.deepEqual(await route(["server", "help"]), ["server", "iroh", "--help"]);
  assert.deepEqual(await route(["server", "help", "manual"]), ["server", "manual", "--help"]);
  assert.deepEqual(await route(["help", "show-server-id"]), ["show-server-id", "--help"]);
});

Deno.test("routeArgs() names an unknown mode, the command, and the modes there are", async () => {
  await assert.rejects(
    () => route(["server", "bogus"]),
    (error: Error) =>
      error instanceof UsageError &&
      error.message === "Unknown mode 'bogus' for 'tunnel server': use iroh, manual or nostr",
  );
  await assert.rejects(
    () => route(["client", "irho", "-v"]),
    /Unknown mode 'irho' for 'tunnel client'/,
  );
});

Deno.test("wantsHelp() is true only for commands given nothing to work with", () => {
  for (const args of [[], ["server", "iroh"], ["client", "manual"], ["show-server-id"]]) {
    assert.ok(wantsHelp(args), args.join(" "));
  }
  assert.ok(wantsHelp(["generate-server-key"]));
  for (
    const args of [
      ["generate-token"],
      ["server", "iroh", "-v"],
      ["client", "manual", "--no-stun"],
      ["show-server-id", "--secret-file", "k"],
      ["--version"],
    ]
  ) {
    assert.ok(!wantsHelp(args), args.join(" "));
  }
});

Deno.test("helpCommand() names the help a user would ask for", () => {
  assert.equal(helpCommand(["server", "iroh", "-v"], COMMANDS), "tunnel server --help");
  assert.equal(helpCommand(["client", "manual"], COMMANDS), "tunnel client manual --help");
  assert.equal(helpCommand(["server", "bogus"], COMMANDS), "tunnel server --help");
  assert.equal(
    helpCommand(["generate-token", "-c", "0"], COMMANDS),
    "tunnel generate-token --help",
  );
  assert.equal(helpCommand(["bogus"], COMMANDS), "tunnel --help");
  assert.deepEqual(commandPath(["client", "iroh", "-v"], COMMANDS), ["client", "iroh"]);
});

Deno.test("unexpectedArgumentMessage() names the option whose value had a space", () => {
  const takesValue = (option: string) => ["--server-addr", "-n", "--target"].includes(option);
  assert.equal(
    unexpectedArgumentMessage(["-n", "x", "--server-addr", "bad", "host:1", "-v"], takesValue),
    "Unexpected argument 'host:1' after --server-addr bad: quote a value that contains " +
      "spaces, as in --server-addr 'bad host:1'",
  );
  assert.equal(
    unexpectedArgumentMessage(["-v", "extra"], takesValue),
    "Unexpected argument 'extra': this command takes only options",
  );
  assert.equal(
    unexpectedArgumentMessage(["--target=a", "b"], takesValue),
    "Unexpected argument 'b': this command takes only options",
  );
  assert.equal(
    unexpectedArgumentMessage(["--", "-x"], takesValue),
    "Unexpected argument '-x': this command takes only options",
  );
});
