/**
 * The `tunnel` command line: parses arguments, runs one command, prints any
 * error as one line and exits with 0 (done), 1 (failed while running) or 2
 * (usage: see {@linkcode UsageError}). Only this file exits the process.
 * @module
 */
import { Command, CommanderError } from "commander";
import { loadConfig, MODES, type Role } from "./config.ts";
import {
  commandPath,
  helpCommand,
  routeArgs,
  unexpectedArgumentMessage,
  wantsHelp,
} from "./command_line.ts";
import { clientIrohCommand } from "./commands/client_iroh.ts";
import { generateTokenCommand } from "./commands/generate_token.ts";
import { generateServerKeyCommand, showServerIdCommand } from "./commands/server_key_commands.ts";
import { generateClientKeyCommand, showClientKeyCommand } from "./commands/client_key_commands.ts";
import { serverIrohCommand } from "./commands/server_iroh.ts";
import { clientManualCommand } from "./commands/client_manual.ts";
import { serverManualCommand } from "./commands/server_manual.ts";
import { relayCommand } from "./commands/relay.ts";
import { serverNostrCommand } from "./commands/server_nostr.ts";
import { clientNostrCommand } from "./commands/client_nostr.ts";
import { statusCommand } from "./commands/status.ts";
import { vpnCommand } from "./commands/vpn.ts";
import { generateNostrKeyCommand, showNpubCommand } from "./commands/nostr_key_commands.ts";
import { resolveConfigPath } from "./settings/shared_flags.ts";
import { requireUnstableNet } from "./unstable_net.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./usage_error.ts";
import denoJson from "../deno.json" with { type: "json" };

const EXIT_STATUS_HELP = `
Run 'tunnel <command> --help' for a command's options.
Exit status: 0 done (or stopped with Ctrl-C); 1 failed while running (network,
files, refused by the peer); 2 usage error (unknown command, mode or option,
missing or malformed setting). A command given nothing to work with prints its
help and exits 2.`;

function buildProgram(): Command {
  const program = new Command("tunnel")
    .description("Forward TCP and UDP ports between machines behind NAT, end-to-end encrypted")
    .version(denoJson.version)
    .addHelpText("after", EXIT_STATUS_HELP);
  const server = program.command("server")
    .description(`share services with authenticated clients (modes: ${modeList()})`)
    .helpCommand(false);
  server.addCommand(serverIrohCommand());
  server.addCommand(serverManualCommand());
  server.addCommand(serverNostrCommand());
  const client = program.command("client")
    .description(`reach a service a server shares (modes: ${modeList()})`)
    .helpCommand(false);
  client.addCommand(clientIrohCommand());
  client.addCommand(clientManualCommand());
  client.addCommand(clientNostrCommand());
  // Before any setting is read: without QUIC nothing else matters.
  for (const mode of [...server.commands, ...client.commands]) {
    mode.hook("preAction", requireUnstableNet);
  }
  const vpn = vpnCommand();
  for (const role of vpn.commands) role.hook("preAction", requireUnstableNet);
  program.addCommand(vpn);
  // The relay's STUN socket is behind the same flag.
  program.addCommand(relayCommand().hook("preAction", requireUnstableNet));
  program.addCommand(generateTokenCommand());
  program.addCommand(generateServerKeyCommand());
  program.addCommand(showServerIdCommand());
  program.addCommand(generateClientKeyCommand());
  program.addCommand(showClientKeyCommand());
  program.addCommand(generateNostrKeyCommand());
  program.addCommand(showNpubCommand());
  program.addCommand(statusCommand());
  configureAll(program);
  return program;
}

/** Every mode, as the top-level help lists them: "iroh, manual, nostr" (the first is the default). */
function modeList(): string {
  return MODES.join(", ");
}

/**
 * `tunnel help X Y`: X (and Y under it) must be commands, or commander would
 * print the help of the last one it knows and exit 0. Roles are left to
 * {@linkcode routeArgs}, which names their modes.
 * @throws {UsageError} naming the first word that is no command there.
 */
function checkHelpTopic(program: Command, words: string[]): void {
  let command = program;
  const path: string[] = [];
  for (const word of words) {
    if (word.startsWith("-") || word === "help" || isRoleWord(path[0])) return;
    const next = command.commands.find((c) => c.name() === word);
    if (!next) {
      throw new UsageError(
        path.length === 0
          ? `Unknown command '${word}'`
          : `Unknown command '${word}' for 'tunnel ${path.join(" ")}'`,
      );
    }
    command = next;
    path.push(word);
  }
}

function isRoleWord(word: string | undefined): boolean {
  return word === "server" || word === "client";
}

/**
 * Errors come back to {@linkcode main} (which prints one line) instead of
 * exiting; help still prints; colour is off so help never needs to read the
 * environment. `addCommand` does not pass settings down, hence the walk.
 */
function configureAll(command: Command): void {
  command.exitOverride().configureOutput({
    outputError: () => {},
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  command.commands.forEach(configureAll);
}

/** `tunnel server -c file.toml` names no mode: the file's (default iroh). */
async function modeFromConfig(options: string[], role: Role) {
  const index = options.findIndex((a) => a === "-c" || a === "--config");
  const inline = options.find((a) => a.startsWith("--config="));
  const path = resolveConfigPath({
    config: inline?.slice("--config=".length) ?? (index >= 0 ? options[index + 1] : undefined),
    defaultConfig: options.includes("--default-config"),
  }, role);
  return path ? (await loadConfig(path, role)).mode : "iroh";
}

function findCommand(program: Command, path: string[]): Command {
  let command = program;
  for (const name of path) command = command.commands.find((c) => c.name() === name) ?? command;
  return command;
}

async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  const names = program.commands.map((c) => c.name());
  let routed = args;
  try {
    if (args[0] === "help") checkHelpTopic(program, args.slice(1));
    routed = await routeArgs(args, modeFromConfig);
    if (wantsHelp(routed)) {
      findCommand(program, commandPath(routed, names)).outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync(routed, { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT_OK;
      // Help was written to stderr already.
      if (error.code === "commander.help") return EXIT_USAGE;
      const path = commandPath(routed, names);
      const command = findCommand(program, path);
      const message = error.code === "commander.excessArguments"
        ? unexpectedArgumentMessage(
          routed.slice(path.length),
          (flag) =>
            command.options.some((o) =>
              (o.long === flag || o.short === flag) && (o.required || o.optional)
            ),
        )
        : error.message.replace(/^error: /, "");
      printError(capitalize(message), routed, names);
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      printError(error.message, routed, names);
      return EXIT_USAGE;
    }
    console.error(`Error: ${(error as Error).message ?? String(error)}`);
    if (isDebug()) console.error((error as Error).stack);
    return EXIT_FAILURE;
  }
}

/** One line, ending with where the help is. */
function printError(message: string, routed: string[], names: string[]): void {
  console.error(`Error: ${message} (see '${helpCommand(routed, names)}')`);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isDebug(): boolean {
  try {
    return Deno.env.get("TUNNEL_LOG")?.toLowerCase() === "debug";
  } catch {
    return false;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
