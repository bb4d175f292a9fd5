/**
 * Relayed paths: QUIC carried by a relay server to the peer's key (iroh's
 * relay protocol), for when no direct path gets through.
 * @module
 */
import { dialViaRelay, type RelayClientLog, type WebSocketDial } from "../relay/mod.ts";
import { RELAY_PATH } from "../transport/mod.ts";
import { type PathAddress, type PathDialer, registerPathDialer } from "./path_dialer.ts";

/** A relay the peer is present at. */
export interface RelayAddress extends PathAddress {
  /** Always "relay". */
  readonly kind: "relay";
  /** The relay's URL. */
  readonly url: string;
  /** Sent to a relay that requires one, as `Authorization: Bearer`. */
  readonly accessToken?: string;
  /** Where the relay client's state changes are told. */
  readonly log?: RelayClientLog;
  /** Opens the relay's TCP connection (through a SOCKS5 proxy); default a direct one. */
  readonly dial?: WebSocketDial;
}

/** The dialer of relayed paths. */
export const relayPathDialer: PathDialer<RelayAddress> = registerPathDialer<RelayAddress>({
  kind: RELAY_PATH,
  describe: (address) => `relay ${address.url}`,
  async dial(target, address, { signal }) {
    const conn = await dialViaRelay({
      relayUrl: address.url,
      serverId: target.endpointId,
      alpn: target.alpn,
      accessToken: address.accessToken,
      log: address.log,
      dial: address.dial,
      signal,
    });
    return { conn, label: address.url };
  },
});
