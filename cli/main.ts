/**
 * The `tunnel` command line: parses arguments, runs one command, prints any
 * error as one line and exits non-zero. Only this file exits the process.
 * @module
 */
import { Command, CommanderError } from "commander";
import { loadConfig, MODES, type Role } from "./config.ts";
import { clientIrohCommand } from "./commands/client_iroh.ts";
import { generateTokenCommand } from "./commands/generate_token.ts";
import { generateServerKeyCommand, showServerIdCommand } from "./commands/server_key_commands.ts";
import { serverIrohCommand } from "./commands/server_iroh.ts";
import { clientManualCommand } from "./commands/client_manual.ts";
import { serverManualCommand } from "./commands/server_manual.ts";
import { resolveConfigPath } from "./commands/config_options.ts";
import denoJson from "../deno.json" with { type: "json" };

function buildProgram(): Command {
  const program = new Command("tunnel")
    .description("Forward TCP and UDP ports between machines behind NAT, end-to-end encrypted")
    .version(denoJson.version);
  const server = program.command("server").description("share services with authenticated clients");
  server.addCommand(serverIrohCommand());
  server.addCommand(serverManualCommand());
  const client = program.command("client").description("reach a service a server shares");
  client.addCommand(clientIrohCommand());
  client.addCommand(clientManualCommand());
  program.addCommand(generateTokenCommand());
  program.addCommand(generateServerKeyCommand());
  program.addCommand(showServerIdCommand());
  configureAll(program);
  return program;
}

/**
 * Errors come back to {@linkcode main} (which prints one line) instead of
 * exiting; colour is off so help never needs to read the environment.
 * `addCommand` does not pass settings down, hence the walk.
 */
function configureAll(command: Command): void {
  command.exitOverride().configureOutput({
    writeErr: () => {},
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  command.commands.forEach(configureAll);
}

/**
 * `tunnel server -c file.toml` names no mode: take it from the file (default
 * iroh), so the mode subcommand can check everything else.
 */
async function withMode(args: string[]): Promise<string[]> {
  const [role, maybeMode] = args;
  if (role !== "server" && role !== "client") return args;
  if ((MODES as readonly string[]).includes(maybeMode)) return args;
  const tail = args.slice(1);
  // `tunnel server --help` lists the modes.
  if (tail.length === 0 || tail.includes("-h") || tail.includes("--help")) return args;
  let mode = "iroh";
  const configIndex = tail.findIndex((a) => a === "-c" || a === "--config");
  const inline = tail.find((a) => a.startsWith("--config="));
  const path = resolveConfigPath({
    config: inline?.slice("--config=".length) ??
      (configIndex >= 0 ? tail[configIndex + 1] : undefined),
    defaultConfig: tail.includes("--default-config"),
  }, role as Role);
  if (path) mode = (await loadConfig(path, role as Role)).mode;
  return [role, mode, ...tail];
}

async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(await withMode(args), { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      const message = error.message.replace(/^error: /, "");
      console.error(`Error: ${message.charAt(0).toUpperCase()}${message.slice(1)} (see --help)`);
      return 2;
    }
    console.error(`Error: ${(error as Error).message ?? String(error)}`);
    if (isDebug()) console.error((error as Error).stack);
    return 1;
  }
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
