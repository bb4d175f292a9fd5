import assert from "node:assert/strict";
import { describeTransportCompliance } from "./compliance.ts";
import { memoryConnectionPair } from "./memory.ts";
import { MultipathConnection } from "./multipath.ts";
import { PATH_SILENCE_MS } from "./path_table.ts";
import { LINK_OUTAGE_LIMIT_MS, PEER_SILENCE_MS } from "./liveness.ts";
import { LinkState, withLink } from "./path_link.ts";
import type { PathInfo } from "./path_table.ts";

describeTransportCompliance("MultipathConnection over one path", () => {
  const [x, y] = memoryConnectionPair();
  const a = new MultipathConnection(x, { kind: "relay", label: "x" });
  const b = new MultipathConnection(y, { kind: "relay", label: "y" });
  return Promise.resolve({
    a,
    b,
    async close() {
      a.close();
      b.close();
      await Promise.all([a.closed, b.closed]);
    },
  });
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function roundTrip(from: MultipathConnection, to: MultipathConnection, text: string) {
  const out = await from.openStream();
  const writer = out.writable.getWriter();
  await writer.write(encoder.encode(text));
  await writer.close();
  const incoming = await to.acceptStream();
  assert.ok(incoming);
  const chunks: string[] = [];
  for await (const chunk of incoming.readable) chunks.push(decoder.decode(chunk));
  return chunks.join("");
}

Deno.test("MultipathConnection: new traffic moves to a direct path and back when it goes silent or closes", async () => {
  let now = 0;
  const clock = () => now;
  const changes: string[] = [];
  const onPathChange = (p: PathInfo) => changes.push(`${p.kind} ${p.label}`);
  const [relayA, relayB] = memoryConnectionPair();
  const a = new MultipathConnection(relayA, { kind: "relay", label: "relay" }, {
    now: clock,
    onPathChange,
  });
  const b = new MultipathConnection(relayB, { kind: "relay", label: "relay" }, { now: clock });
  assert.deepEqual(changes, ["relay relay"]);
  assert.equal(await roundTrip(a, b, "over the relay"), "over the relay");

  const [directA, directB] = memoryConnectionPair();
  const id = a.addPath(directA, { kind: "direct", label: "203.0.113.7:41641" });
  assert.deepEqual(changes, ["relay relay", "direct 203.0.113.7:41641"]);
  // A stream opened now goes on the direct connection: the peer sees it there.
  const onDirect = a.openStream();
  const seen = directB.acceptStream();
  const writing = (await onDirect).writable.getWriter().write(encoder.encode("d"));
  const reader = (await seen)!.readable.getReader();
  assert.deepEqual((await reader.read()).value, encoder.encode("d"));
  await writing;
  await a.sendDatagram(Uint8Array.of(7));
  assert.deepEqual(await directB.readDatagram(), Uint8Array.of(7));
  // From here b reads the direct path too (it was read by hand above).
  b.addPath(directB, { kind: "direct", label: "198.51.100.9:5000" });

  // Silence on the direct path: the relay takes new traffic, the session lives.
  now = PATH_SILENCE_MS + 1;
  a.heard(a.paths().find((p) => p.kind === "relay")!.id, 3);
  assert.equal(a.currentPath?.kind, "relay");
  assert.deepEqual(changes.at(-1), "relay relay");
  // It answers again: back to direct.
  a.heard(id, 1);
  assert.equal(a.currentPath?.kind, "direct");

  // The relay connection dies: the session goes on over the direct path.
  relayA.close({ code: 0, reason: "relay gone" });
  await relayB.closed;
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(a.paths().length, 1);
  assert.equal(await roundTrip(b, a, "direct only"), "direct only");
  // The last path closes: so does the session, with that path's reason.
  directA.close({ code: 0, reason: "done" });
  assert.equal((await a.closed).reason, "done");
  assert.equal((await b.closed).reason, "done");
  assert.equal(await a.acceptStream(), null);
  assert.equal(await a.readDatagram(), null);
  await assert.rejects(a.openStream(), /closed/);
});

Deno.test("MultipathConnection: a path added after the end is closed at once", async () => {
  const [x, y] = memoryConnectionPair();
  const a = new MultipathConnection(x, { kind: "relay", label: "x" });
  x.close({ code: 0, reason: "bye" });
  await a.closed;
  const [late, lateb] = memoryConnectionPair();
  assert.equal(a.addPath(late, { kind: "direct", label: "late" }), -1);
  assert.match((await lateb.closed).reason, /session has ended/);
  y.close();
});

Deno.test("MultipathConnection: a silent peer ends the session after 5 s on a working link; a relay outage is waited out", async () => {
  let now = 0;
  const clock = () => now;
  const link = new LinkState(true);
  const [relayA, relayB] = memoryConnectionPair();
  const a = new MultipathConnection(withLink(relayA, link), { kind: "relay", label: "r" }, {
    now: clock,
  });
  const id = a.paths()[0].id;
  assert.equal(a.linkUp, true);
  // The relay connection drops at 1 s for 20 s: the peer, silent all along, is not given up.
  now = 1_000;
  link.set(false);
  assert.equal(a.linkUp, false);
  for (; now <= 21_000; now += 250) assert.equal(a.checkLiveness(), undefined);
  now = 21_000;
  link.set(true);
  // Nothing for a while after the relay is back (20 s of grace): the session waits.
  now = 34_000;
  assert.equal(a.checkLiveness(), undefined);
  // A probe sent since then is answered: the grace is over.
  a.heard(id, 5);
  // Then it stops answering on the working link: gone 5 s later, with the reason.
  now = 34_000 + PEER_SILENCE_MS;
  assert.equal(a.checkLiveness(), undefined);
  now += 1;
  assert.equal(a.checkLiveness(), "no answer for 5 s");
  assert.equal((await a.closed).reason, "no answer for 5 s");
  assert.equal((await relayB.closed).reason, "no answer for 5 s");
  // A closed path leaves no listener on its link.
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(link.listeners, 0);
});

Deno.test("MultipathConnection: a direct path keeps the link up while the relay is away (the 5 s rule holds)", async () => {
  let now = 0;
  const link = new LinkState(true);
  const [relayA, relayB] = memoryConnectionPair();
  const [directA, directB] = memoryConnectionPair();
  const a = new MultipathConnection(withLink(relayA, link), { kind: "relay", label: "r" }, {
    now: () => now,
  });
  a.addPath(directA, { kind: "direct", label: "d" });
  link.set(false);
  assert.equal(a.linkUp, true);
  now = PEER_SILENCE_MS + 1;
  assert.equal(a.checkLiveness(), "no answer for 5 s");
  await Promise.all([a.closed, relayB.closed, directB.closed]);
});

Deno.test("MultipathConnection: a relay link down past 30 s ends the session", async () => {
  let now = 0;
  const link = new LinkState(true);
  const [relayA, relayB] = memoryConnectionPair();
  const a = new MultipathConnection(withLink(relayA, link), { kind: "relay", label: "r" }, {
    now: () => now,
  });
  link.set(false);
  now = LINK_OUTAGE_LIMIT_MS;
  assert.equal(a.checkLiveness(), undefined);
  now += 1;
  assert.equal(a.checkLiveness(), "no link to the peer for 30 s");
  await Promise.all([a.closed, relayB.closed]);
  assert.equal(a.checkLiveness(), undefined, "judged once");
});

Deno.test("MultipathConnection: a path closed with a code ends the session and takes the other paths along", async () => {
  const [relayA, relayB] = memoryConnectionPair();
  const [directA, directB] = memoryConnectionPair();
  const a = new MultipathConnection(relayA, { kind: "relay", label: "relay" });
  a.addPath(directA, { kind: "direct", label: "direct" });
  // The peer says goodbye on the direct path only (its relay is away).
  directB.close({ code: 3, reason: "server shutting down" });
  assert.deepEqual(await a.closed, { code: 3, reason: "server shutting down" });
  assert.equal((await relayB.closed).reason, "server shutting down");
  a.close();
});

Deno.test("MultipathConnection: a path closed without a code leaves the session on the others", async () => {
  const [relayA, relayB] = memoryConnectionPair();
  const [directA, directB] = memoryConnectionPair();
  const a = new MultipathConnection(relayA, { kind: "relay", label: "relay" });
  a.addPath(directA, { kind: "direct", label: "direct" });
  directB.close({ code: 0, reason: "path probe ended" });
  await directA.closed;
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(a.paths().map((p) => p.kind), ["relay"]);
  a.close();
  relayB.close();
  await a.closed;
});
