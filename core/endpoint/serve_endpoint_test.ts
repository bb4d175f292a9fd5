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
import { connectToServer, type DirectAddress, startEndpointServer } from "./mod.ts";

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
