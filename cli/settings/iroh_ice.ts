/**
 * iroh mode's ICE settings from the command line: an absent `--stun-server`
 * defers to the relays' own STUN (core/endpoint `relayStunServers`), and port
 * mapping is on unless `--no-port-mapping` (or `port_mapping = false`).
 * @module
 */
import type { Command } from "commander";
import type { EndpointIce } from "../../core/endpoint/mod.ts";
import type { IceSettings } from "./ice_options.ts";
import { PUBLIC_RELAY_URLS } from "./iroh_paths.ts";

/** iroh mode's ICE settings. */
export type IrohIceSettings = EndpointIce;

/** The flag {@linkcode portMappingOption} adds. */
export interface PortMappingFlags {
  /** False with `--no-port-mapping`. */
  portMapping?: boolean;
}

/** Adds `--no-port-mapping` to an iroh-mode command. */
export function portMappingOption(command: Command, role: "server" | "client"): Command {
  return command.option(
    "--no-port-mapping",
    role === "server"
      ? "do not ask the router to map UDP ports (PCP, NAT-PMP, UPnP IGD): the listener's, published in the record, and each hole-punching attempt's"
      : "do not ask the router to map the UDP port of each hole-punching attempt (PCP, NAT-PMP, UPnP IGD)",
  );
}

/** From the ICE flags, where an absent `--stun-server` defers to the relays. */
export function irohIce(
  settings: IceSettings,
  stunNamed: boolean,
  portMapping: boolean,
): IrohIceSettings {
  return {
    stunServers: stunNamed ? settings.stunServers : undefined,
    // On iroh's public relays every relay's STUN is asked: two answers tell the NAT's mapping.
    ...(stunNamed ? {} : { stunSiblings: PUBLIC_RELAY_URLS }),
    hostAddresses: settings.hostAddresses,
    ...(portMapping ? { portMapping: {} } : {}),
  };
}
