// The path seam and the connect on top of it, without sockets: a kind of path that exists
// only in this file (registered in two lines) carries a real server session; one abort
// signal reaches every losing attempt; the first attempt's own error comes back alone.
import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { memoryConnectionPair, type PeerConnection, registerPathKind } from "../transport/mod.ts";
import {
  AllowList,
  forwardingServices,
  parseSource,
  serveConnection,
  SessionLimiter,
  silentLog,
} from "../tunnel/mod.ts";
import { connectToServer, type PathAddress, registerPathDialer } from "./mod.ts";

const TOKEN = new TextEncoder().encode("iEndpointTestToken");
const serverId = SecretKey.generate().endpointId;

/** A server session on the far end of each memory connection made. */
function memoryServer() {
  const served: Promise<void>[] = [];
  return {
    served,
    connect(): PeerConnection {
      const [client, server] = memoryConnectionPair();
      served.push(serveConnection(server, {
        authenticate: (credential) => new TextDecoder().decode(credential) === "iEndpointTestToken",
        services: forwardingServices({
          allowedTcp: new AllowList(["127.0.0.0/8"]),
          allowedUdp: new AllowList([]),
          resolve: (host) => Promise.resolve([host]),
        }),
        sessions: new SessionLimiter(4),
        log: silentLog,
        label: "test",
      }));
      return client;
    },
  };
}

interface MemoryAddress extends PathAddress {
  kind: "test-memory" | "test-stalled";
  name: string;
}

const server = memoryServer();
const signals: AbortSignal[] = [];

// A whole new kind of path: its facts, and its dialer. Nothing else in core changes.
registerPathKind({ kind: "test-memory", wireCode: 240, relayed: false });
registerPathDialer<MemoryAddress>({
  kind: { kind: "test-memory", wireCode: 240, relayed: false },
  describe: (address) => `memory ${address.name}`,
  dial: () => Promise.resolve({ conn: server.connect(), label: "in memory" }),
});
// One that never connects and says so only when aborted.
registerPathKind({ kind: "test-stalled", wireCode: 241, relayed: true });
registerPathDialer<MemoryAddress>({
  kind: { kind: "test-stalled", wireCode: 241, relayed: true },
  describe: (address) => `stalled ${address.name}`,
  dial: (_target, _address, { signal }) => {
    signals.push(signal);
    return new Promise((_, reject) =>
      signal.addEventListener("abort", () => reject(new Error("aborted")))
    );
  },
});

Deno.test("connectToServer(): a registered kind of path carries the session; the losers are aborted", async () => {
  const stalled: MemoryAddress[] = [
    { kind: "test-stalled", name: "a" },
    { kind: "test-stalled", name: "b" },
  ];
  const found = await connectToServer({
    serverId,
    addresses: () => Promise.resolve([...stalled, { kind: "test-memory", name: "m" }]),
    credential: TOKEN,
    source: parseSource("tcp://127.0.0.1:22"),
  }, { log: silentLog });
  assert.equal(found.where, "at in memory", "not relayed: reached 'at' its label");
  assert.equal(found.relayUrl, undefined);
  assert.deepEqual(found.session.paths.paths().map((p) => [p.kind, p.label]), [[
    "test-memory",
    "in memory",
  ]]);
  assert.equal(signals.length, 2);
  assert.ok(signals.every((signal) => signal.aborted), "every losing attempt heard the abort");
  found.session.conn.close();
  await Promise.all(server.served);
});

Deno.test("connectToServer(): with one path, its own error comes back, not a summary", async () => {
  const refusing = memoryServer();
  registerPathKind({ kind: "test-refused", wireCode: 242, relayed: false });
  registerPathDialer<PathAddress>({
    kind: { kind: "test-refused", wireCode: 242, relayed: false },
    describe: () => "refused",
    dial: () => Promise.reject(new RangeError("the one path's own reason")),
  });
  await assert.rejects(
    connectToServer({
      serverId,
      addresses: () => Promise.resolve([{ kind: "test-refused" }]),
      credential: TOKEN,
      source: parseSource("tcp://127.0.0.1:22"),
    }, { log: silentLog }),
    (error) => error instanceof RangeError && error.message === "the one path's own reason",
  );
  assert.equal(refusing.served.length, 0);
});

Deno.test("connectToServer(): an address of a kind nobody registered is an error that names it", async () => {
  await assert.rejects(
    connectToServer({
      serverId,
      addresses: () => Promise.resolve([{ kind: "test-unheard-of" }]),
      credential: TOKEN,
      source: parseSource("tcp://127.0.0.1:22"),
    }, { log: silentLog }),
    /no dialer for 'test-unheard-of' paths/,
  );
});
