import assert from "node:assert/strict";
import type { MappingProtocol, PortMapEvent, PortMapping } from "../portmap/mod.ts";
import { silentLog } from "../tunnel/mod.ts";
import { mapListenerPort } from "./listener_mapping.ts";
import { LEASE_WAIT_MS, PortLeases, RETRY_SILENT_ROUTER_MS } from "./port_leases.ts";

/** A mapper whose start() resolves after `delayMs` with `result`; it records what it was asked. */
function fakeMappers(result: (port: number) => PortMapping | undefined, delayMs = 0) {
  const calls: { port: number; protocols?: readonly MappingProtocol[] }[] = [];
  let closed = 0;
  const mapper = (port: number, protocols: readonly MappingProtocol[] | undefined) => {
    calls.push({ port, protocols });
    let started: Promise<PortMapping | undefined> | undefined;
    return {
      start: () =>
        started ??= new Promise<PortMapping | undefined>((resolve) =>
          setTimeout(() => resolve(result(port)), delayMs)
        ),
      close: () => {
        closed++;
        return Promise.resolve();
      },
    };
  };
  return { mapper, calls, closed: () => closed };
}

const grant = (port: number, protocol: MappingProtocol = "nat-pmp"): PortMapping => ({
  protocol,
  external: { address: "198.51.100.20", port: port + 1 },
  internalPort: port,
  lifetimeSeconds: 600,
  behindCgnat: false,
});

Deno.test("PortLeases: a granted lease names the mapping, is released once, and its protocol is asked alone next", async () => {
  const fake = fakeMappers((port) => grant(port, "pcp"));
  const leases = new PortLeases({ log: silentLog, mapper: fake.mapper });
  const lease = await leases.lease(4000);
  assert.deepEqual(
    lease && { address: lease.address, port: lease.port, protocol: lease.protocol },
    { address: "198.51.100.20", port: 4001, protocol: "pcp" },
  );
  await Promise.all([lease!.release(), lease!.release()]);
  assert.equal(fake.closed(), 1);
  await leases.lease(4002);
  assert.deepEqual(fake.calls.map((c) => c.protocols), [undefined, ["pcp"]]);
});

Deno.test("PortLeases: a silent router is left alone for RETRY_SILENT_ROUTER_MS", async () => {
  let now = 1_000_000;
  const fake = fakeMappers(() => undefined);
  const leases = new PortLeases({ log: silentLog, mapper: fake.mapper, now: () => now });
  assert.equal(await leases.lease(4000), undefined);
  assert.equal(await leases.lease(4001), undefined);
  assert.equal(fake.calls.length, 1, "the second attempt asked nobody");
  now += RETRY_SILENT_ROUTER_MS;
  await leases.lease(4002);
  assert.equal(fake.calls.length, 2);
});

Deno.test("PortLeases: a slow first answer does not hold the attempt past LEASE_WAIT_MS.first, but is learned", async () => {
  const fake = fakeMappers((port) => grant(port, "upnp"), LEASE_WAIT_MS.first + 300);
  const leases = new PortLeases({ log: silentLog, mapper: fake.mapper });
  const started = performance.now();
  assert.equal(await leases.lease(4000), undefined);
  const waited = performance.now() - started;
  assert.ok(waited >= LEASE_WAIT_MS.first - 5 && waited < LEASE_WAIT_MS.first + 250, `${waited}`);
  await new Promise((r) => setTimeout(r, 500)); // the late answer lands, is learned, and let go
  assert.equal(fake.closed(), 1, "the late mapping is deleted");
  await leases.lease(4001);
  assert.deepEqual(fake.calls.at(-1)?.protocols, ["upnp"]);
});

Deno.test("PortLeases: what the listener's mapping learned serves the attempts", async () => {
  const fake = fakeMappers((port) => grant(port));
  const leases = new PortLeases({ log: silentLog, mapper: fake.mapper });
  leases.learned(undefined); // the router answered nothing
  assert.equal(await leases.lease(4000), undefined);
  assert.equal(fake.calls.length, 0);
  leases.learned("nat-pmp"); // ... until it did
  assert.ok(await leases.lease(4001));
  assert.deepEqual(fake.calls[0].protocols, ["nat-pmp"]);
});

Deno.test("mapListenerPort(): mapped and lost are told, the record follows, a loss retries later; close deletes", async () => {
  let emit: (event: PortMapEvent) => void = () => {};
  let closed = 0;
  let starts = 0;
  const changes: (string | undefined)[] = [];
  const outcomes: (string | undefined)[] = [];
  const lines: string[] = [];
  const mapping = grant(7000);
  const listener = mapListenerPort({
    port: 7000,
    log: { info: (l) => lines.push(`info ${l}`), warn: (l) => lines.push(`warn ${l}`), debug() {} },
    onChange: (m) => changes.push(m && `${m.external.address}:${m.external.port}`),
    onOutcome: (p) => outcomes.push(p),
    mapper: (onEvent) => {
      emit = onEvent;
      return {
        start: () => {
          starts++;
          return Promise.resolve(undefined);
        },
        close: () => {
          closed++;
          return Promise.resolve();
        },
      };
    },
  });
  emit({ type: "mapped", mapping, line: "x" });
  emit({ type: "renewed", mapping, line: "y" }); // same address: no new record
  assert.equal(listener.current?.external.port, 7001);
  emit({ type: "lost", mapping, line: "port mapping: nat-pmp mapping lost" });
  assert.equal(listener.current, undefined);
  assert.deepEqual(changes, ["198.51.100.20:7001", undefined]);
  assert.deepEqual(outcomes, ["nat-pmp"]);
  assert.match(
    lines[0],
    /^info Port mapping: 198\.51\.100\.20:7001 -> UDP port 7000 \(NAT-PMP, lease 600 s\)$/,
  );
  assert.match(lines[1], /^warn Port mapping: nat-pmp mapping lost; trying again in 60 s$/);
  assert.equal(starts, 1);
  await listener.close();
  assert.equal(closed, 1);
  emit({ type: "mapped", mapping, line: "late" }); // after close: ignored
  assert.equal(listener.current, undefined);
});

Deno.test("PortLeases: before a protocol is known, the wait ends LEASE_WAIT_MS.afterStun after STUN's answers", async () => {
  const fake = fakeMappers((port) => grant(port), LEASE_WAIT_MS.first + 200);
  const leases = new PortLeases({ log: silentLog, mapper: fake.mapper });
  const started = performance.now();
  assert.equal(await leases.lease(4000, Promise.resolve()), undefined);
  const waited = performance.now() - started;
  assert.ok(waited < LEASE_WAIT_MS.afterStun + 150, `${waited}`);
  await new Promise((r) => setTimeout(r, LEASE_WAIT_MS.first + 400)); // learned in the background
  const known = performance.now();
  const lease = await leases.lease(4001, Promise.resolve()); // known now: STUN does not cut it short
  assert.ok(lease, "the known protocol's slower answer is waited for");
  assert.ok(performance.now() - known >= LEASE_WAIT_MS.first + 150);
  await lease.release();
});
