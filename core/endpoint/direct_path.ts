/**
 * Direct paths: QUIC straight to the peer's addresses, tried in order, each
 * with the congestion controller its address calls for.
 * @module
 */
import { congestionControlToward, dialQuic, DIRECT_PATH } from "../transport/mod.ts";
import { formatHostPort } from "../tunnel/mod.ts";
import { type PathAddress, type PathDialer, registerPathDialer } from "./path_dialer.ts";

/** The peer's direct addresses (IP literals: names are resolved before). */
export interface DirectAddress extends PathAddress {
  /** Always "direct". */
  readonly kind: "direct";
  /** Tried in order. */
  readonly addrs: readonly { hostname: string; port: number }[];
}

/** The dialer of direct paths. */
export const directPathDialer: PathDialer<DirectAddress> = registerPathDialer<DirectAddress>({
  kind: DIRECT_PATH,
  describe: () => "direct",
  async dial(target, address, { signal }) {
    const conn = await dialQuic({
      addrs: [...address.addrs],
      endpointId: target.endpointId,
      alpn: target.alpn,
      signal,
      congestionControl: congestionControlToward,
    });
    return { conn, label: formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port) };
  },
});
