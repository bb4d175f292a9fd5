/**
 * ICE options shared by `server manual` and `client manual`, and the lines both
 * print once a path is found.
 * @module
 */
import type { Command } from "commander";
import { IceFailedError, type NominatedPath } from "../../core/nat/mod.ts";
import { parseIp } from "../../core/net/mod.ts";
import { formatHostPort } from "../../core/tunnel/mod.ts";
import { repeatable } from "../options.ts";
import type { Output } from "../output.ts";
import { UsageError } from "../usage_error.ts";

/**
 * Used when neither `--stun-server` nor `--no-stun` is given (public servers that
 * answer plain STUN binding requests on UDP).
 */
export const DEFAULT_STUN_SERVERS = [
  "stun.l.google.com:19302",
  "stun1.l.google.com:19302",
  "stun.cloudflare.com:3478",
];

/** Flags of the ICE options. */
export interface IceFlags {
  stunServer?: string[];
  /** False with `--no-stun` (commander names a negated flag after what it negates). */
  stun?: boolean;
  hostCandidate?: string[];
}

/** What ICE gathers with. */
export interface IceSettings {
  /** Empty with `--no-stun`. */
  stunServers: string[];
  /** The only host candidates to offer; every interface's address when undefined. */
  hostAddresses?: string[];
}

/** Adds the ICE options to a manual-mode command. */
export function iceOptions(command: Command, stunDefault = "public servers"): Command {
  return command
    .addOption(
      repeatable("--stun-server <host:port>", `STUN server (repeatable; default: ${stunDefault})`),
    )
    .option("--no-stun", "no STUN: host candidates only, nothing is sent anywhere but to the peer")
    .addOption(
      repeatable(
        "--host-candidate <ip>",
        "offer only this local address as a host candidate (repeatable; default: every interface)",
      ),
    );
}

/**
 * The STUN servers and host addresses to gather with.
 * @throws {UsageError} when the flags contradict each other or an address is not an IP.
 */
export function iceSettings(
  flags: IceFlags,
  configStun: string[] | undefined,
  defaultStun: string[] = DEFAULT_STUN_SERVERS,
): IceSettings {
  const noStun = flags.stun === false;
  if (noStun && flags.stunServer !== undefined) {
    throw new UsageError("Use either --no-stun or --stun-server, not both");
  }
  for (const address of flags.hostCandidate ?? []) {
    if (!parseIp(address)) {
      throw new UsageError(`Invalid --host-candidate '${address}': not an IP address`);
    }
  }
  const stunServers = noStun ? [] : flags.stunServer ?? configStun ?? defaultStun;
  return { stunServers, hostAddresses: flags.hostCandidate };
}

/**
 * What a user can do when ICE finds no path, in this CLI's terms. Only ways out
 * that exist today: there is no relay to fall back to yet.
 */
export const ICE_FAILURE_ADVICE =
  "Check that UDP is allowed outbound on both sides and that both use a reachable STUN server " +
  "(not --no-stun, unless both are on one LAN); otherwise open a UDP port to the server " +
  "(port forwarding on its router) and use iroh mode with that address as --server-addr.";

/** Adds {@linkcode ICE_FAILURE_ADVICE} to an ICE failure; other errors pass unchanged. */
export function withIceAdvice(error: unknown): unknown {
  if (!(error instanceof IceFailedError)) return error;
  return new Error(`${error.message} ${ICE_FAILURE_ADVICE}`, { cause: error });
}

/** The progress line of a gathering that takes long: what it waits for. */
export function slowGatheringLine(ice: IceSettings): string {
  return ice.stunServers.length === 0
    ? "Gathering ICE candidates..."
    : `Gathering ICE candidates: waiting for STUN ${ice.stunServers.join(", ")}...`;
}

/** Prints the established path the way the specification shows it. */
export function printPath(out: Output, path: NominatedPath): void {
  out.info("ICE connection established!");
  out.info(`   Connection: ${path.connectionType}`);
  out.info(
    `   Local: ${formatHostPort(path.local.address, path.local.port)} -> Remote: ${
      formatHostPort(path.remote.address, path.remote.port)
    }`,
  );
}
