/**
 * The help of a mode command: the usage line users type (`tunnel server
 * [iroh]`, since iroh is the default) and the list of modes, so that
 * `tunnel server --help` shows both the default mode's options and the others.
 * @module
 */
import type { Command } from "commander";
import { type Mode, MODES, type Role } from "../config.ts";

const SUMMARIES: Record<Role, Record<Mode, string>> = {
  server: {
    iroh: "clients reach its EndpointId through relays, directly or hole-punched",
    manual: "hole punching by copy-paste: read a client's offer, print an answer",
    nostr: "hole punching with signaling through Nostr relays: serve a known client's npub",
  },
  client: {
    iroh: "reach a server by its EndpointId: discovery, relays, hole punching",
    manual: "hole punching by copy-paste: print an offer, read the server's answer",
    nostr: "hole punching with signaling through Nostr relays: ask a known server's npub",
  },
};

/** Sets `command`'s usage line and lists the modes after its options. */
export function modeHelp(command: Command, role: Role, mode: Mode): Command {
  const usage = mode === "iroh"
    ? `tunnel ${role} [iroh] [options]`
    : `tunnel ${role} ${mode} [options]`;
  return command
    .configureHelp({ commandUsage: () => usage })
    .addHelpText("after", modesText(role));
}

function modesText(role: Role): string {
  const width = Math.max(...MODES.map((m) => m.length)) + 2;
  const lines = MODES.map((m) =>
    `  ${m.padEnd(width)}${m === "iroh" ? "(default) " : ""}${SUMMARIES[role][m]}`
  );
  return ["", `Modes (see tunnel ${role} <mode> --help):`, ...lines].join("\n");
}
