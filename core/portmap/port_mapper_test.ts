// PortMapper against in-memory protocol clients: order, renewals, loss, close, bounds.
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { Grant, MappingClient, MappingProtocol } from "./clients.ts";
import { GatewayRefusal, PortMapError } from "./errors.ts";
import { type PortMapEvent, PortMapper } from "./port_mapper.ts";

interface FakeClient extends MappingClient {
  maps: number;
  unmaps: Grant[];
}

type Behaviour = (call: number, signal: AbortSignal) => Promise<Grant>;

function fake(
  protocol: MappingProtocol,
  behaviour: Behaviour,
  unmap?: (signal: AbortSignal) => Promise<void>,
): FakeClient {
  const client: FakeClient = {
    protocol,
    maps: 0,
    unmaps: [],
    map: (_port, _lifetime, _previous, signal) => behaviour(client.maps++, signal),
    unmap: async (_port, grant, signal) => {
      client.unmaps.push(grant);
      await unmap?.(signal);
    },
  };
  return client;
}

const grant = (lifetimeSeconds: number, externalAddress = "198.51.100.10"): Grant => ({
  externalAddress,
  externalPort: 40000,
  lifetimeSeconds,
});
const refuse = () => Promise.reject(new GatewayRefusal("refused"));
const hang = (_: number, signal: AbortSignal) =>
  new Promise<Grant>((_, reject) =>
    signal.addEventListener("abort", () => reject(new PortMapError("timed out")))
  );

function recorder() {
  const events: PortMapEvent[] = [];
  return {
    events,
    onEvent: (e: PortMapEvent) => events.push(e),
    of: (t: string) => events.filter((e) => e.type === t),
  };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("tries PCP, NAT-PMP, UPnP in order and keeps the first grant", async () => {
  const pcp = fake("pcp", refuse);
  const pmp = fake("nat-pmp", hang);
  const upnp = fake("upnp", () => Promise.resolve(grant(0)));
  const r = recorder();
  const mapper = new PortMapper({
    internalPort: 4433,
    clients: [pcp, pmp, upnp],
    deadlines: { "nat-pmp": 100 },
    onEvent: r.onEvent,
  });
  const started = Date.now();
  const m = await mapper.start();
  ok(Date.now() - started < 1_000);
  deepStrictEqual(m, {
    protocol: "upnp",
    external: { address: "198.51.100.10", port: 40000 },
    internalPort: 4433,
    lifetimeSeconds: 0,
    behindCgnat: false,
  });
  deepStrictEqual([pcp.maps, pmp.maps, upnp.maps], [1, 1, 1]);
  equal(r.of("mapped").length, 1);
  ok(String((r.of("mapped")[0] as { line: string }).line).includes("(permanent)"));
  await mapper.close();
  deepStrictEqual(upnp.unmaps, [grant(0)]);
  equal(mapper.mapping, undefined);
});

Deno.test("protocols can be restricted; none working gives one 'unavailable' line", async () => {
  const pcp = fake("pcp", () => Promise.resolve(grant(60)));
  const pmp = fake("nat-pmp", refuse);
  const r = recorder();
  const mapper = new PortMapper({
    internalPort: 4433,
    clients: [pcp, pmp],
    protocols: ["nat-pmp"],
    onEvent: r.onEvent,
  });
  equal(await mapper.start(), undefined);
  equal(pcp.maps, 0);
  equal(r.of("unavailable").length, 1);
  const line = (r.of("unavailable")[0] as { line: string }).line;
  ok(line === "no port mapping (nat-pmp: refused)", line);
  await mapper.close();
});

Deno.test("every protocol hanging: start() ends within the sum of the deadlines", async () => {
  const r = recorder();
  const clients = (["pcp", "nat-pmp", "upnp"] as const).map((p) => fake(p, hang));
  const mapper = new PortMapper({
    internalPort: 4433,
    clients,
    deadlines: { pcp: 150, "nat-pmp": 150, upnp: 300 },
    onEvent: r.onEvent,
  });
  const started = Date.now();
  equal(await mapper.start(), undefined);
  const took = Date.now() - started;
  ok(took >= 590 && took < 1_600, `took ${took} ms`);
  equal(r.events.length, 1);
  await mapper.close();
});

Deno.test("renews at half the lease, and reports the new lease", async () => {
  const r = recorder();
  const at: number[] = [];
  const started = Date.now();
  const pcp = fake("pcp", () => {
    at.push(Date.now() - started);
    return Promise.resolve(grant(2));
  });
  const mapper = new PortMapper({ internalPort: 4433, clients: [pcp], onEvent: r.onEvent });
  await mapper.start();
  while (at.length < 3 && Date.now() - started < 4_000) await wait(20);
  equal(at.length, 3, `requests at ${at}`);
  // Half of the 2 s lease after each grant (timers may run late on a busy machine, not early).
  ok(at[1] - at[0] >= 990 && at[1] - at[0] < 1_600, `first renewal after ${at[1] - at[0]} ms`);
  ok(at[2] - at[1] >= 990 && at[2] - at[1] < 1_600, `second renewal after ${at[2] - at[1]} ms`);
  equal(r.of("renewed").length, 2);
  await mapper.close();
  equal(pcp.unmaps.length, 1);
  await wait(1_100);
  equal(at.length, 3, "no renewal after close");
});

Deno.test("failed renewals retry, then report the mapping lost when the lease ends", async () => {
  const r = recorder();
  const pmp = fake("nat-pmp", (call) => call === 0 ? Promise.resolve(grant(3)) : refuse());
  const mapper = new PortMapper({ internalPort: 4433, clients: [pmp], onEvent: r.onEvent });
  const started = Date.now();
  await mapper.start();
  while (r.of("lost").length === 0 && Date.now() - started < 5_000) await wait(50);
  const lostAt = Date.now() - started;
  equal(r.of("lost").length, 1);
  ok(lostAt >= 2_950 && lostAt < 4_000, `lost after ${lostAt} ms (lease 3 s)`);
  ok(pmp.maps >= 3, `retried: ${pmp.maps} requests`);
  equal(mapper.mapping, undefined);
  ok((r.of("lost")[0] as { line: string }).line.includes("lost (renewal failed: refused)"));
  await mapper.close();
  equal(pmp.unmaps.length, 0, "nothing to delete once lost");
});

Deno.test("unusable leases and CGNAT addresses", async () => {
  const short = fake("pcp", () => Promise.resolve(grant(1)));
  const cgnat = fake("nat-pmp", () => Promise.resolve(grant(60, "100.64.7.7")));
  const r = recorder();
  const mapper = new PortMapper({
    internalPort: 4433,
    clients: [short, cgnat],
    onEvent: r.onEvent,
  });
  const m = await mapper.start();
  equal(m?.protocol, "nat-pmp", "a 1 s lease is refused");
  equal(m?.behindCgnat, true);
  ok((r.of("mapped")[0] as { line: string }).line.endsWith("(behind a carrier NAT)"));
  await mapper.close();
});

Deno.test("close() is bounded when the gateway does not answer the deletion", async () => {
  const r = recorder();
  const pcp = fake(
    "pcp",
    () => Promise.resolve(grant(60)),
    (signal) =>
      new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(new PortMapError("timed out")))
      ),
  );
  const mapper = new PortMapper({
    internalPort: 4433,
    clients: [pcp],
    deadlines: { close: 200 },
    onEvent: r.onEvent,
  });
  await mapper.start();
  const started = Date.now();
  await mapper.close();
  ok(Date.now() - started < 600);
  equal(r.of("ignored").length, 1);
  await mapper.close(); // idempotent
  equal(pcp.unmaps.length, 1);
});

Deno.test("close() during start() deletes a grant that arrives late", async () => {
  let release: (g: Grant) => void = () => {};
  const pcp = fake("pcp", () => new Promise<Grant>((resolve) => release = resolve));
  const mapper = new PortMapper({ internalPort: 4433, clients: [pcp] });
  const starting = mapper.start();
  await wait(10);
  const closing = mapper.close();
  release(grant(60));
  equal(await starting, undefined);
  await closing;
  equal(pcp.unmaps.length, 1);
});

Deno.test("bad options and a missing gateway are one line, not a crash", async () => {
  let thrown: unknown;
  try {
    new PortMapper({ internalPort: 0 });
  } catch (e) {
    thrown = e;
  }
  ok(thrown instanceof PortMapError);
  const r = recorder();
  const mapper = new PortMapper({ internalPort: 4433, gateway: "not-an-ip", onEvent: r.onEvent });
  equal(await mapper.start(), undefined);
  deepStrictEqual(r.events.map((e) => e.type), ["unavailable"]);
  ok((r.events[0] as { line: string }).line.includes("not an IPv4 address"));
});

Deno.test("start() twice at once shares one attempt; after a loss it tries anew", async () => {
  const pcp = fake("pcp", (call) => call === 1 ? refuse() : Promise.resolve(grant(2)));
  const r = recorder();
  const mapper = new PortMapper({ internalPort: 4433, clients: [pcp], onEvent: r.onEvent });
  const [a, b] = await Promise.all([mapper.start(), mapper.start()]);
  equal(pcp.maps, 1);
  deepStrictEqual(a, b);
  const started = Date.now();
  while (r.of("lost").length === 0 && Date.now() - started < 4_000) await wait(20);
  equal(r.of("lost").length, 1);
  equal(mapper.mapping, undefined);
  const again = await mapper.start();
  equal(again?.protocol, "pcp");
  equal(r.of("mapped").length, 2);
  await mapper.close();
  let closedError: unknown;
  await mapper.start().catch((e) => closedError = e);
  ok(closedError instanceof PortMapError);
});
