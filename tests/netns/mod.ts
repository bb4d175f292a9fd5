/**
 * NAT test bed for the `tunnel` tests: two peers behind NAT routers of chosen RFC 4787
 * kinds (or on one LAN), a public host with two addresses and a coturn STUN server, all in
 * network namespaces that `close()` removes. Needs root, iproute2, iptables, nftables,
 * procps and coturn; call {@link canBuildBeds} first and skip with its reason.
 *
 * ```ts
 * import { canBuildBeds, createBed, probeNat } from "./tests/netns/mod.ts";
 * const support = await canBuildBeds();
 * Deno.test({ name: "through NAT", ignore: !support.ok, fn: async () => {
 *   const bed = await createBed({ left: "port-restricted", right: "symmetric" });
 *   try {
 *     const child = bed.spawn(bed.right, [Deno.execPath(), "run", "-A", "peer.ts", bed.stunServer]);
 *     // ...
 *   } finally {
 *     await bed.close();
 *   }
 * } });
 * ```
 * See README.md for the topology, address plan and rules.
 *
 * For discovery through the Mainline DHT, a private swarm of npm bittorrent-dht nodes on
 * a bed's public segment, and independent tools (bittorrent-dht + npm pkarr) that put and
 * get pkarr records from any namespace of the bed:
 *
 * ```ts
 * import { createBed, independentGet, startDhtSwarm } from "./tests/netns/mod.ts";
 * const bed = await createBed({ left: "port-restricted", right: "symmetric", stun: false });
 * const swarm = await startDhtSwarm(bed, { nodes: 8 }); // 198.51.100.101-108:6881
 * try {
 *   const record = await independentGet(swarm, bed.right, "<z32 public key>");
 * } finally {
 *   await swarm.stop();
 *   await bed.close();
 * }
 * ```
 *
 * For VPN tests, a smaller bed: two namespaces on one veth link, and wireguard-go as the
 * reference peer in either or both; {@link startWireGuardTunPeer} runs our own engine with
 * a TUN device as the other peer.
 *
 * ```ts
 * import { createVethPair, startWireGuardGoPair } from "./tests/netns/mod.ts";
 * const pair = await createVethPair(); // left 192.0.2.1 <-> right 192.0.2.2
 * try {
 *   await using wg = await startWireGuardGoPair(pair); // 10.77.0.1 <-> 10.77.0.2
 *   await pair.exec(pair.left, ["ping", "-c", "1", wg.right.ip]);
 * } finally {
 *   await pair.close();
 * }
 * ```
 *
 * For Tor, a private Tor network (Debian's tor, `TestingTorNetwork`) in a namespace with only
 * a loopback: onion services in front of the caller's loopback ports, and clients whose
 * SOCKS5 ports are on the caller's 127.0.0.1.
 *
 * ```ts
 * import { startTorNetwork } from "./tests/netns/mod.ts";
 * const tor = await startTorNetwork({ hiddenServices: [{ port: 8080 }], clients: 1 });
 * try {
 *   // socks5h://127.0.0.1:<tor.socks(0).port> reaches http://<tor.onion(0)>:8080/
 * } finally {
 *   await tor.stop();
 * }
 * ```
 * @module
 */
export {
  type Bed,
  type BedHost,
  type BedOptions,
  type BedTarget,
  createBed,
  type ExecOptions,
  type ExecResult,
  type SpawnOptions,
} from "./bed.ts";
export { NAT_KINDS, type NatKind } from "./nat_rules.ts";
export { sweepStaleBeds } from "./namespaces.ts";
export { createVethPair, type PairHost, type VethPair, type VethPairOptions } from "./veth_pair.ts";
export {
  startWireGuardGo,
  startWireGuardGoPair,
  wireGuardConfig,
  type WireGuardGo,
  type WireGuardGoOptions,
  type WireGuardGoPair,
  type WireGuardGoPairOptions,
  type WireGuardPeer,
  type WireGuardTransfer,
} from "./wireguard_go.ts";
export {
  decodeWireGuardKey,
  type WireGuardKeyPair,
  wireGuardKeyPair,
  wireGuardPublicKey,
} from "./wireguard_keys.ts";
export {
  startWireGuardTunPeer,
  type WireGuardTunPeer,
  type WireGuardTunPeerExit,
  type WireGuardTunPeerOptions,
} from "./wireguard_tun_peer.ts";
export { type BedSupport, canBuildBeds, canRunMiniUpnpd } from "./preflight.ts";
export {
  type MiniUpnpd,
  miniUpnpdConfig,
  type MiniUpnpdOptions,
  type MiniUpnpdProtocols,
  startMiniUpnpd,
} from "./miniupnpd.ts";
export {
  addVethHost,
  exitWithin,
  type ExtraHost,
  type InNamespace,
  routes,
  spawnVpn,
  startVpnClient,
  startVpnServer,
  tunDevices,
  type VpnClientProcess,
  type VpnProcessOptions,
  type VpnServerProcess,
  waitForPing,
} from "./vpn_processes.ts";
export {
  classify,
  type NatBehaviour,
  type NatObservation,
  type NatProbeResult,
  probeNat,
  stunMappedAddress,
} from "./nat_probe.ts";
export {
  assertInsideBed,
  DHT_SWARM_PORT,
  DHT_SWARM_READY_TIMEOUT_MS,
  DHT_SWARM_START_TIMEOUT_MS,
  DHT_TOOL_TIMEOUT_MS,
  type DhtBed,
  type DhtNodeStatus,
  type DhtReach,
  type DhtSwarm,
  type DhtSwarmOptions,
  independentGet,
  independentPut,
  type IndependentPutResult,
  independentPutSigned,
  type IndependentRecord,
  type IndependentRecordInput,
  type IndependentToolOptions,
  MAX_DHT_SWARM_NODES,
  startDhtSwarm,
} from "./dht_swarm.ts";
export {
  type HiddenServiceOptions,
  MAX_HIDDEN_SERVICES,
  MAX_TOR_CLIENTS,
  type RestartOptions,
  startTorNetwork,
  TOR_AUTHORITIES,
  TOR_BOOTSTRAP_TIMEOUT_MS,
  TOR_RELAYS,
  TOR_RESTART_TIMEOUT_MS,
  type TorNetwork,
  type TorNetworkOptions,
  torNetworkUnsupported,
} from "./tor_network.ts";
export { socks5Connect } from "./tor_socks.ts";
