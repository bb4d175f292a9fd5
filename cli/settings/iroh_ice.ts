/**
 * iroh mode's ICE settings from the command line: an absent `--stun-server`
 * defers to the relays' own STUN (core/endpoint `relayStunServers`).
 * @module
 */
import type { EndpointIce } from "../../core/endpoint/mod.ts";
import type { IceSettings } from "./ice_options.ts";

/** iroh mode's ICE settings. */
export type IrohIceSettings = EndpointIce;

/** From the ICE flags, where an absent `--stun-server` defers to the relays. */
export function irohIce(settings: IceSettings, stunNamed: boolean): IrohIceSettings {
  return {
    stunServers: stunNamed ? settings.stunServers : undefined,
    hostAddresses: settings.hostAddresses,
  };
}
