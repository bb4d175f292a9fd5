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
export { type BedSupport, canBuildBeds } from "./preflight.ts";
export {
  classify,
  type NatBehaviour,
  type NatObservation,
  type NatProbeResult,
  probeNat,
  stunMappedAddress,
} from "./nat_probe.ts";
