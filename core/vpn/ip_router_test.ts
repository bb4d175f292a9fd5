import assert from "node:assert/strict";
import { IpRouter, type PacketSink } from "./ip_router.ts";
import type { TunDevice } from "./device/mod.ts";

/** An IPv4 header from `src` to `dst` with a marker byte after it. */
function packet(src: number[], dst: number[], marker = 0): Uint8Array {
  const bytes = new Uint8Array(21);
  bytes[0] = 0x45;
  bytes.set(src, 12);
  bytes.set(dst, 16);
  bytes[20] = marker;
  return bytes;
}

class Sink implements PacketSink {
  got: Uint8Array[] = [];
  send(packets: Uint8Array[]) {
    this.got.push(...packets);
  }
}

function fakeTun(batches: Uint8Array[][] = []): TunDevice & { written: Uint8Array[] } {
  const written: Uint8Array[] = [];
  return {
    name: "fake0",
    mtu: 1420,
    written,
    read: () => Promise.resolve(batches.shift() ?? null),
    write: (packets) => void written.push(...packets),
    close: () => Promise.resolve(),
  };
}

const SERVER = [10, 0, 0, 1];
const A = [10, 0, 0, 2];
const B = [10, 0, 0, 3];

Deno.test("IpRouter sends device packets to the host that holds the destination", async () => {
  const tun = fakeTun([[packet(SERVER, A, 1), packet(SERVER, B, 2), packet(SERVER, A, 3)]]);
  const router = new IpRouter(tun);
  const [a, b] = [new Sink(), new Sink()];
  router.addHost(Uint8Array.from(A), a);
  router.addHost(Uint8Array.from(B), b);
  await router.run();
  assert.deepEqual(a.got.map((p) => p[20]), [1, 3]);
  assert.deepEqual(b.got.map((p) => p[20]), [2]);
});

Deno.test("IpRouter drops unknown destinations, IPv6 and runts unless a default is set", () => {
  const router = new IpRouter(fakeTun());
  const ipv6 = new Uint8Array(40);
  ipv6[0] = 0x60;
  router.route([packet(SERVER, [10, 0, 0, 9]), ipv6, Uint8Array.of(0x45)]);
  assert.deepEqual(router.drops, { notIpv4: 2, noRoute: 1, spoofed: 0 });
  const server = new Sink();
  const unset = router.setDefault(server);
  router.route([packet(A, [192, 168, 1, 10], 7)]);
  assert.deepEqual(server.got.map((p) => p[20]), [7]);
  unset();
  router.route([packet(A, [192, 168, 1, 10])]);
  assert.equal(router.drops.noRoute, 2);
});

Deno.test("IpRouter accepts a client's packets only from its own address", () => {
  const tun = fakeTun();
  const router = new IpRouter(tun);
  router.fromPeer([packet(A, SERVER, 1), packet(B, SERVER, 2)], Uint8Array.from(A));
  assert.deepEqual(tun.written.map((p) => p[20]), [1]);
  assert.equal(router.drops.spoofed, 1);
  // A server may route whole networks to its client: any source.
  router.fromPeer([packet([192, 168, 1, 10], A, 3)]);
  assert.deepEqual(tun.written.map((p) => p[20]), [1, 3]);
});

Deno.test("IpRouter sends client-to-client packets to the device, for the host's firewall", () => {
  const tun = fakeTun();
  const router = new IpRouter(tun);
  const [a, b] = [new Sink(), new Sink()];
  router.addHost(Uint8Array.from(A), a);
  router.addHost(Uint8Array.from(B), b);
  router.fromPeer([packet(A, B, 5), packet(A, SERVER, 6)], Uint8Array.from(A));
  // Neither client got it from the router: the kernel forwards it, or its FORWARD chain drops it.
  assert.deepEqual(tun.written.map((p) => p[20]), [5, 6]);
  assert.equal(b.got.length, 0);
  assert.equal(a.got.length, 0);
  // What the kernel forwards comes back out of the device, and then reaches B.
  router.route(tun.written.splice(0, 1));
  assert.deepEqual(b.got.map((p) => p[20]), [5]);
});

Deno.test("IpRouter: removing a replaced host route keeps the newer one", () => {
  const router = new IpRouter(fakeTun());
  const [old, fresh] = [new Sink(), new Sink()];
  const removeOld = router.addHost(Uint8Array.from(A), old);
  router.addHost(Uint8Array.from(A), fresh);
  removeOld();
  router.route([packet(SERVER, A, 4)]);
  assert.deepEqual(fresh.got.map((p) => p[20]), [4]);
  assert.equal(old.got.length, 0);
});
