// The server endpoint on loopback, driven as a command would drive it: it says where it
// listens, a client reaches it through core's connect, its registry lists the session, a
// wrong token is refused, and close() ends it all (the sanitizers check nothing is left).
import assert from "node:assert/strict";
import { generateToken, TokenSet } from "../auth/mod.ts";
import { createPkarrHandler, resolveRecord } from "../discovery/mod.ts";
import { SecretKey } from "../identity/mod.ts";
import {
  AllowList,
  forwardingServices,
  parseHostPort,
  parseSource,
  SessionRefusedError,
  silentLog,
} from "../tunnel/mod.ts";
import { createRelayServer, serveRelay } from "../relay/mod.ts";
import {
  connectToServer,
  type DirectAddress,
  type PathAddress,
  SHUTDOWN_CLOSE,
  startEndpointServer,
} from "./mod.ts";

const TOKEN = generateToken();

/** Starts a loopback server that publishes to `pkarrUrl`; returns it with what it said. */
async function serverPublishingTo(pkarrUrl: string) {
  const lines: string[] = [];
  const failures: Error[] = [];
  const log = {
    info: (line: string) => lines.push(line),
    warn: (line: string) => lines.push(`warning: ${line}`),
    debug() {},
  };
  const secretKey = SecretKey.generate();
  const server = await startEndpointServer({
    secretKey,
    authenticate: () => false,
    maxSessions: 1,
    bind: { host: "127.0.0.1", port: 0 },
    relayUrls: [],
    relayOnly: false,
    pkarrUrl,
    ice: {},
  }, (limits) =>
    forwardingServices({
      allowedTcp: new AllowList([]),
      allowedUdp: new AllowList([]),
      processTcpStreams: limits.processTcpStreams,
      processUdpFlows: limits.processUdpFlows,
    }), { log, onPublishFailed: (error) => failures.push(error) });
  return { server, secretKey, lines, failures };
}

Deno.test("startEndpointServer(): reached directly through connectToServer; close() ends it", async () => {
  const secretKey = SecretKey.generate();
  const tokens = new TokenSet([TOKEN]);
  let listening: string[] = [];
  const server = await startEndpointServer({
    secretKey,
    authenticate: (credential) => tokens.has(credential),
    maxSessions: 4,
    bind: { host: "127.0.0.1", port: 0 },
    relayUrls: [],
    relayOnly: false,
    ice: {},
  }, (limits) =>
    forwardingServices({
      allowedTcp: new AllowList(["127.0.0.0/8"]),
      allowedUdp: new AllowList([]),
      processTcpStreams: limits.processTcpStreams,
      processUdpFlows: limits.processUdpFlows,
    }), { log: silentLog, onListening: (addrs) => listening = addrs });
  try {
    assert.equal(listening.length, 1);
    assert.deepEqual(server.directAddrs, listening);
    const { host, port } = parseHostPort(listening[0]);
    const address: DirectAddress = { kind: "direct", addrs: [{ hostname: host, port }] };
    const connect = (token: string) =>
      connectToServer({
        serverId: secretKey.endpointId,
        addresses: () => Promise.resolve([address]),
        credential: new TextEncoder().encode(token),
        source: parseSource("tcp://127.0.0.1:22"),
      }, { log: silentLog });
    const found = await connect(TOKEN);
    assert.equal(found.where, `at ${listening[0]}`);
    // The server lists a session once its side has set it up, just after the client's.
    for (let i = 0; i < 100 && server.registry.snapshot().length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(server.registry.snapshot().length, 1);
    found.session.conn.close();
    await assert.rejects(connect(generateToken()), SessionRefusedError);
  } finally {
    await server.close();
  }
});

Deno.test("startEndpointServer(): says it published only once the record is there", async () => {
  const store = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, createPkarrHandler());
  const pkarrUrl = `http://127.0.0.1:${store.addr.port}/pkarr`;
  const { server, secretKey, lines, failures } = await serverPublishingTo(pkarrUrl);
  try {
    assert.deepEqual(failures, []);
    assert.deepEqual(lines, [`Discovery: published to ${pkarrUrl}`]);
    const record = await resolveRecord(secretKey.endpointId, { relayUrl: pkarrUrl });
    // The pkarr relay is on this machine: the loopback address is worth publishing.
    assert.deepEqual(record?.addrs.map((a) => a.hostname), ["127.0.0.1"]);
  } finally {
    await server.close();
    await store.shutdown();
  }
});

Deno.test("startEndpointServer(): a failed first publish is told with its cause, never as published", async () => {
  // A port nobody listens on: the publish is refused at once.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const { server, lines, failures } = await serverPublishingTo(`http://127.0.0.1:${port}/pkarr`);
  try {
    assert.equal(failures.length, 1);
    assert.match(
      failures[0].message,
      /^Cannot publish to http:\/\/127\.0\.0\.1:\d+\/pkarr\/\w+: .*(refused|connect)/i,
    );
    assert.doesNotMatch(failures[0].message, /fetch failed/);
    assert.deepEqual(lines.filter((line) => /Discovery/.test(line)), []);
  } finally {
    await server.close();
  }
});

/** A server on loopback, optionally present at `relayUrl` only. */
function startTestServer(secretKey: SecretKey, relayUrl?: string) {
  const tokens = new TokenSet([TOKEN]);
  return startEndpointServer({
    secretKey,
    authenticate: (credential) => tokens.has(credential),
    maxSessions: 4,
    bind: { host: "127.0.0.1", port: 0 },
    relayUrls: relayUrl === undefined ? [] : [relayUrl],
    relayOnly: relayUrl !== undefined,
    ice: {},
  }, (limits) =>
    forwardingServices({
      allowedTcp: new AllowList(["127.0.0.0/8"]),
      allowedUdp: new AllowList([]),
      processTcpStreams: limits.processTcpStreams,
      processUdpFlows: limits.processUdpFlows,
    }), { log: silentLog });
}

/** Connects to the server at `address`; closes the server and says how long its client took to hear. */
async function goodbyeHeardAfter(secretKey: SecretKey, address: PathAddress, server: {
  close(): Promise<void>;
}) {
  const found = await connectToServer({
    serverId: secretKey.endpointId,
    addresses: () => Promise.resolve([address]),
    credential: new TextEncoder().encode(TOKEN),
    source: parseSource("tcp://127.0.0.1:22"),
  }, { log: silentLog });
  const closing = performance.now();
  const closed = server.close();
  const info = await found.session.conn.closed;
  const heardMs = performance.now() - closing;
  await closed;
  return { info, heardMs };
}

Deno.test("startEndpointServer(): close() tells a direct client why, at once", async () => {
  const secretKey = SecretKey.generate();
  const server = await startTestServer(secretKey);
  const { host, port } = parseHostPort(server.directAddrs[0]);
  const { info, heardMs } = await goodbyeHeardAfter(
    secretKey,
    { kind: "direct", addrs: [{ hostname: host, port }] } as DirectAddress,
    server,
  );
  assert.deepEqual(info, SHUTDOWN_CLOSE);
  // Without the goodbye the client would learn it from the idle timeout (6 s).
  assert.ok(heardMs < 1_000, `heard after ${heardMs.toFixed(0)} ms`);
});

Deno.test("startEndpointServer(): close() tells a client through a relay why, before leaving the relay", async () => {
  const relay = createRelayServer();
  const http = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
  const relayUrl = `http://127.0.0.1:${http.port}`;
  try {
    const secretKey = SecretKey.generate();
    const server = await startTestServer(secretKey, relayUrl);
    const { info, heardMs } = await goodbyeHeardAfter(
      secretKey,
      { kind: "relay", url: relayUrl } as PathAddress,
      server,
    );
    assert.deepEqual(info, SHUTDOWN_CLOSE);
    assert.ok(heardMs < 1_000, `heard after ${heardMs.toFixed(0)} ms`);
  } finally {
    relay.close();
    await http.shutdown();
  }
});

Deno.test("startEndpointServer(): a relayed session waits out the relay gone for 7 s (past the 5 s of silence) and goes on", async () => {
  const relay = createRelayServer();
  let http = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
  const port = http.port;
  const relayUrl = `http://127.0.0.1:${port}`;
  const secretKey = SecretKey.generate();
  const server = await startTestServer(secretKey, relayUrl);
  try {
    const found = await connectToServer({
      serverId: secretKey.endpointId,
      addresses: () => Promise.resolve([{ kind: "relay", url: relayUrl } as PathAddress]),
      credential: new TextEncoder().encode(TOKEN),
      source: parseSource("tcp://127.0.0.1:22"),
    }, { log: silentLog });
    let ended: string | undefined;
    found.session.conn.closed.then((info) => ended = info.reason);
    const conn = found.session.paths.conn;
    assert.equal(conn.linkUp, true);
    for (let i = 0; i < 100 && server.registry.snapshot().length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(server.registry.snapshot().length, 1);

    relay.close();
    await http.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    assert.equal(ended, undefined, "the client kept its session while the relay was away");
    assert.equal(conn.linkUp, false);
    assert.equal(server.registry.snapshot().length, 1, "so did the server");

    http = await serveRelay(relay, { hostname: "127.0.0.1", port });
    const backAt = performance.now();
    // Both ends come back to the relay and the probes cross again.
    const heardSince = () => conn.paths().some((path) => path.lastHeardAt > backAt);
    for (let i = 0; i < 200 && !heardSince(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(heardSince(), "probes answered again within 10 s of the relay's return");
    assert.equal(conn.linkUp, true);
    assert.equal(ended, undefined);
    assert.equal(server.registry.snapshot().length, 1);
    conn.close();
  } finally {
    await server.close();
    relay.close();
    await http.shutdown();
  }
});
