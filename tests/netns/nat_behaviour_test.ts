// Proves the bed: every NatKind shows the RFC 4787 mapping and filtering its name promises,
// and coturn reports the router's WAN address. Skips (saying why) where beds can't be built.
import { deepStrictEqual, equal } from "node:assert/strict";
import {
  canBuildBeds,
  createBed,
  NAT_KINDS,
  type NatBehaviour,
  type NatKind,
  probeNat,
  stunMappedAddress,
  sweepStaleBeds,
} from "./mod.ts";

const support = await canBuildBeds();
if (support.ok) await sweepStaleBeds();
else console.log(`skipping NAT bed tests: ${support.reason}`);

const EXPECTED: Record<NatKind, { mapping: NatBehaviour; filtering: NatBehaviour }> = {
  "full-cone": { mapping: "endpoint-independent", filtering: "endpoint-independent" },
  "restricted-cone": { mapping: "endpoint-independent", filtering: "address-dependent" },
  "port-restricted": {
    mapping: "endpoint-independent",
    filtering: "address-and-port-dependent",
  },
  "symmetric": {
    mapping: "address-and-port-dependent",
    filtering: "address-and-port-dependent",
  },
};

for (const kind of NAT_KINDS) {
  Deno.test({
    name: `${kind} NAT shows ${EXPECTED[kind].mapping} mapping, ${
      EXPECTED[kind].filtering
    } filtering`,
    ignore: !support.ok,
    fn: async () => {
      // Both sides get the kind, so both routers' rules are exercised.
      const bed = await createBed({ left: kind, right: kind, stun: false });
      try {
        for (const host of [bed.left, bed.right]) {
          const result = await probeNat(bed, host);
          deepStrictEqual(
            { mapping: result.mapping, filtering: result.filtering },
            EXPECTED[kind],
            `${host.name}: ${JSON.stringify(result.observation)}`,
          );
          for (const mapped of result.observation.mapped) {
            equal(mapped.split(":")[0], host.wanIp, "mapped to the router's WAN address");
          }
        }
      } finally {
        await bed.close();
      }
    },
  });
}

Deno.test({
  name: "coturn answers a STUN Binding Request with the router's WAN address",
  ignore: !support.ok,
  fn: async () => {
    const bed = await createBed({ left: "port-restricted", right: "symmetric" });
    try {
      for (const host of [bed.left, bed.right]) {
        for (const publicIp of bed.publicHost.ips) {
          const mapped = await stunMappedAddress(bed, host, `${publicIp}:3478`);
          equal(mapped.split(":")[0], host.wanIp, `${host.name} via ${publicIp}`);
        }
      }
      equal(bed.stunServer, `${bed.publicHost.ips[0]}:3478`);
    } finally {
      await bed.close();
    }
  },
});
