import assert from "node:assert/strict";
import type { DhtPeerAddress, NodeContact } from "./krpc.ts";
import { Lookup } from "./lookup.ts";
import { bigIntToId, idToBigInt } from "./node_id.ts";

/** A simulated network of `count` nodes with ids 1..count; each knows every node. */
function world(count: number) {
  const nodes: NodeContact[] = Array.from({ length: count }, (_, i) => ({
    id: bigIntToId(BigInt(i + 1) << 150n),
    address: { hostname: "10.0.0.1", port: i + 1 },
  }));
  const byPort = (address: DhtPeerAddress) => nodes[address.port - 1];
  const closestTo = (target: Uint8Array, n: number) => {
    const goal = idToBigInt(target);
    return [...nodes].sort((a, b) => {
      const da = idToBigInt(a.id) ^ goal, db = idToBigInt(b.id) ^ goal;
      return da < db ? -1 : da > db ? 1 : 0;
    }).slice(0, n);
  };
  return { nodes, byPort, closestTo };
}

Deno.test("lookup: at most alpha in flight, converges on the K closest", () => {
  const { nodes, byPort, closestTo } = world(200);
  const target = bigIntToId(77n << 150n);
  const lookup = new Lookup(target, [{ address: nodes[0].address }], 0, { alpha: 3 });
  let now = 0;
  while (!lookup.finished(now)) {
    const batch = lookup.next(now);
    assert.ok(lookup.inFlight <= 3);
    for (const seed of batch) {
      const node = byPort(seed.address);
      lookup.responded(
        seed.address,
        node.id,
        closestTo(target, 8),
        Uint8Array.of(node.address.port),
      );
    }
    now += 10;
  }
  const found = lookup.closestResponders().map((responder) => responder.contact.address.port);
  assert.deepEqual(found, closestTo(target, 8).map((node) => node.address.port));
  assert.ok(lookup.closestResponders().every((responder) => responder.token?.length === 1));
  assert.ok(lookup.queriesSent < 40, `${lookup.queriesSent} queries`);
});

Deno.test("lookup: a query past its timeout fails and another node is asked; the deadline ends it", () => {
  const { nodes } = world(20);
  const lookup = new Lookup(bigIntToId(1n), nodes.map(({ id, address }) => ({ id, address })), 0, {
    alpha: 2,
    queryTimeoutMs: 100,
    timeoutMs: 1000,
  });
  const first = lookup.next(0);
  assert.equal(first.length, 2);
  assert.equal(lookup.next(50).length, 0, "both slots taken");
  assert.equal(lookup.nextWakeAt(), 100);
  lookup.tick(100);
  assert.equal(lookup.inFlight, 0);
  assert.equal(lookup.next(100).length, 2, "two more asked");
  assert.ok(!lookup.finished(999));
  assert.ok(lookup.finished(1000), "the overall deadline");
  assert.equal(lookup.next(1000).length, 0);
});

Deno.test("lookup: the query budget bounds a lookup fed endless new nodes", () => {
  let port = 1;
  let distance = 1n << 159n;
  // Each new id is closer to the target (0) than every one before it.
  const fresh = () => ({
    id: bigIntToId(distance--),
    address: { hostname: "10.0.0.2", port: port++ },
  });
  const lookup = new Lookup(bigIntToId(0n), [fresh()], 0, { maxQueries: 30, maxCandidates: 50 });
  let rounds = 0;
  while (!lookup.finished(0) && rounds++ < 1000) {
    for (const seed of lookup.next(0)) {
      // A hostile responder: 16 new ids every time, each closer than the last.
      lookup.responded(seed.address, seed.id!, Array.from({ length: 16 }, fresh));
    }
  }
  assert.ok(lookup.finished(0));
  assert.equal(lookup.queriesSent, 30);
  assert.ok(lookup.candidateCount <= 50, `${lookup.candidateCount} candidates`);
});

Deno.test("lookup: answers from unasked addresses, our own id and id changes are not taken", () => {
  const own = bigIntToId(5n);
  const lookup = new Lookup(bigIntToId(1n), [{ address: { hostname: "10.0.0.3", port: 1 } }], 0, {
    excludeId: own,
  });
  // Not asked yet: ignored.
  lookup.responded({ hostname: "10.0.0.3", port: 2 }, bigIntToId(9n), []);
  const [seed] = lookup.next(0);
  lookup.responded(seed.address, own, [{
    id: bigIntToId(2n),
    address: { hostname: "10.0.0.3", port: 3 },
  }]);
  assert.equal(lookup.closestResponders().length, 0, "a peer claiming our id is not a responder");
  assert.ok(lookup.finished(0), "and the nodes it named were not taken");
  // Our own id in a node list is never queried.
  const other = new Lookup(
    bigIntToId(1n),
    [{ id: own, address: { hostname: "10.0.0.3", port: 4 } }],
    0,
    {
      excludeId: own,
    },
  );
  assert.equal(other.next(0).length, 0);
});

Deno.test("lookup: stop() ends it at once (first item found)", () => {
  const { nodes } = world(10);
  const lookup = new Lookup(bigIntToId(1n), nodes, 0);
  lookup.next(0);
  lookup.stop();
  assert.ok(lookup.finished(0));
  assert.equal(lookup.next(0).length, 0);
});
