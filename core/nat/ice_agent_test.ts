// Two agents in one process, on loopback only. Run with:
// deno test --unstable-net --allow-net --allow-sys=networkInterfaces --ignore-env --allow-run=deno core/nat/
// (deno runs the clean-exit child process)

import assert from "node:assert/strict";
import { SecretKey, serverCredentials, serverNameFor, trustAnchorFor } from "../identity/mod.ts";
import { IceAgent, type IceGatherOptions } from "./ice_agent.ts";
import { IceFailedError } from "./ice_failed_error.ts";
import type { NominatedPath } from "./nominated_path.ts";
import { stunResponse } from "../stun/mod.ts";

const LOOPBACK = { stunServers: [], hostAddresses: ["127.0.0.1"] };
/** Generous for loopback (measured ~30 ms) yet bounds a hung test. */
const TIMEOUT_MS = 5_000;

async function gatherPair(
  extra: Partial<IceGatherOptions> = {},
): Promise<[IceAgent, IceAgent]> {
  return await Promise.all([
    IceAgent.gather({ role: "controlling", ...LOOPBACK, ...extra }),
    IceAgent.gather({ role: "controlled", ...LOOPBACK, ...extra }),
  ]);
}

function remoteOf(agent: IceAgent) {
  return { credentials: agent.localCredentials, candidates: agent.localCandidates };
}

async function connectPair(a: IceAgent, b: IceAgent): Promise<[NominatedPath, NominatedPath]> {
  return await Promise.all([
    a.connect(remoteOf(b), { timeoutMs: TIMEOUT_MS }),
    b.connect(remoteOf(a), { timeoutMs: TIMEOUT_MS }),
  ]);
}

/** Proves a port is free again: binding it succeeds. */
function assertPortFree(hostname: string, port: number): void {
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port });
  socket.close();
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Returns what `fn` rejects with; fails when it resolves. */
async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

Deno.test("IceAgent.connect() nominates a Direct (Host) path between two loopback agents", async () => {
  const [a, b] = await gatherPair();
  const [pathA, pathB] = await connectPair(a, b);
  try {
    assert.deepEqual(pathA.connectionType, "Direct (Host)");
    assert.deepEqual(pathB.connectionType, "Direct (Host)");
    // Each side's view of the other matches what the other is bound to.
    assert.deepEqual([pathA.remote.address, pathA.remote.port], ["127.0.0.1", pathB.bindPort]);
    assert.deepEqual([pathB.remote.address, pathB.remote.port], ["127.0.0.1", pathA.bindPort]);
    assert.deepEqual([pathA.local.address, pathA.local.port], ["127.0.0.1", pathA.bindPort]);
    assert.deepEqual(pathA.local.type, "host");
    assert.deepEqual(pathA.remote.type, "host");
    assert.deepEqual(pathA.bindAddress, "0.0.0.0");
  } finally {
    await Promise.all([pathA.release(), pathB.release()]);
  }
});

Deno.test("NominatedPath.release() frees the port: plain UDP flows on the nominated path", async () => {
  const [a, b] = await gatherPair();
  const [pathA, pathB] = await connectPair(a, b);
  await Promise.all([pathA.release(), pathB.release()]);
  const socketA = Deno.listenDatagram({
    transport: "udp",
    hostname: pathA.bindAddress,
    port: pathA.bindPort,
  });
  const socketB = Deno.listenDatagram({
    transport: "udp",
    hostname: pathB.bindAddress,
    port: pathB.bindPort,
  });
  try {
    const payload = new TextEncoder().encode("over the nominated path");
    await socketA.send(payload, {
      transport: "udp",
      hostname: pathA.remote.address,
      port: pathA.remote.port,
    });
    const [data, from] = await withDeadline(socketB.receive(), 2_000, "receive");
    assert.deepEqual(new TextDecoder().decode(data), "over the nominated path");
    assert.deepEqual((from as Deno.NetAddr).port, pathB.remote.port);
  } finally {
    socketA.close();
    socketB.close();
  }
});

Deno.test({
  name: "NominatedPath hands over to QUIC: endpoints bind the ICE ports and a stream crosses",
  ignore: typeof Deno.QuicEndpoint !== "function",
  async fn() {
    // The project's own pinned certificate, as manual mode uses it.
    const identity = SecretKey.generate();
    const { cert, key } = serverCredentials(identity);
    const [a, b] = await gatherPair();
    const [client, server] = await connectPair(a, b);
    await Promise.all([client.release(), server.release()]);
    const serverEndpoint = new Deno.QuicEndpoint({
      hostname: server.bindAddress,
      port: server.bindPort,
    });
    const clientEndpoint = new Deno.QuicEndpoint({
      hostname: client.bindAddress,
      port: client.bindPort,
    });
    const listener = serverEndpoint.listen({ cert, key, alpnProtocols: ["tunnel-test"] });
    try {
      const [serverConn, clientConn] = await withDeadline(
        Promise.all([
          listener.accept(),
          Deno.connectQuic({
            endpoint: clientEndpoint,
            hostname: client.remote.address,
            port: client.remote.port,
            caCerts: [trustAnchorFor(identity.endpointId)],
            serverName: serverNameFor(identity.endpointId),
            alpnProtocols: ["tunnel-test"],
          }),
        ]),
        5_000,
        "QUIC handshake",
      );
      // The server sees the client coming from the client's ICE port.
      assert.deepEqual(serverConn.remoteAddr.port, client.bindPort);
      const stream = await clientConn.createBidirectionalStream();
      const writer = stream.writable.getWriter();
      await writer.write(new TextEncoder().encode("hello over QUIC"));
      await writer.close();
      const incoming = await serverConn.incomingBidirectionalStreams.getReader().read();
      const received = await new Response(incoming.value!.readable).text();
      assert.deepEqual(received, "hello over QUIC");
      await incoming.value!.writable.close();
      await stream.readable.cancel();
      clientConn.close();
      serverConn.close();
    } finally {
      listener.stop();
      clientEndpoint.close();
      serverEndpoint.close();
    }
  },
});

Deno.test("IceAgent.gather() with includeLoopback lists interfaces, loopback included", async () => {
  // Listing only: connecting would send checks to this machine's other interface
  // addresses, and tests keep their traffic on loopback.
  const [a, b] = await gatherPair({ hostAddresses: undefined, includeLoopback: true });
  try {
    assert.ok(
      a.localCandidates.some((c) => c.address === "127.0.0.1"),
      "loopback candidate missing",
    );
    assert.ok(
      a.localCandidates.every((c) => c.type === "host"),
      "only host candidates without STUN",
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("IceAgent.gather() leaves out the listed addresses avoidAddress names", async () => {
  const [a, b] = await gatherPair({
    hostAddresses: undefined,
    includeLoopback: true,
    avoidAddress: (address) => address === "127.0.0.1",
  });
  try {
    const addresses = a.localCandidates.map((c) => c.address);
    assert.ok(!addresses.includes("127.0.0.1"), addresses.join(", "));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("IceAgent.connect() does not try the peer's candidates avoidAddress names", async () => {
  // Both offer 127.0.0.1 (hostAddresses is not filtered); one avoids it as a destination.
  const [a, b] = await Promise.all([
    IceAgent.gather({ role: "controlling", ...LOOPBACK, avoidAddress: (x) => x === "127.0.0.1" }),
    IceAgent.gather({ role: "controlled", ...LOOPBACK }),
  ]);
  try {
    await assert.rejects(
      a.connect(remoteOf(b), { timeoutMs: TIMEOUT_MS }),
      /none of the peer's 1 candidates can pair with ours/,
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

for (const late of ["controlled", "controlling"] as const) {
  Deno.test(`IceAgent.connect() succeeds when the ${late} side starts 500 ms later`, async () => {
    const [a, b] = await gatherPair();
    const [early, lateAgent] = late === "controlled" ? [a, b] : [b, a];
    const earlyPath = early.connect(remoteOf(lateAgent), { timeoutMs: TIMEOUT_MS });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const latePath = lateAgent.connect(remoteOf(early), { timeoutMs: TIMEOUT_MS });
    const [p, q] = await Promise.all([earlyPath, latePath]);
    await Promise.all([p.release(), q.release()]);
    assert.deepEqual(p.remote.port, q.bindPort);
    assert.deepEqual(q.remote.port, p.bindPort);
  });
}

Deno.test("IceAgent.connect() rejects with IceFailedError within the timeout when no pair works, and closes its sockets", async () => {
  const agent = await IceAgent.gather({ role: "controlling", ...LOOPBACK });
  const closed = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const deadPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const started = performance.now();
  const error = await rejection(
    () =>
      agent.connect({
        credentials: { ufrag: "abcd", pwd: "0123456789abcdef012345" },
        candidates: [{
          foundation: "1",
          component: 1,
          transport: "udp",
          priority: 1,
          address: "127.0.0.1",
          port: deadPort,
          type: "host",
        }],
      }, { timeoutMs: 1_500 }),
  );
  assert.ok(error instanceof IceFailedError, String(error));
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 1_400 && elapsed < 2_500, `rejected after ${elapsed} ms`);
  assert.ok(error.message.includes("symmetric NAT"), error.message);
  for (const c of agent.localCandidates) assertPortFree("0.0.0.0", c.port);
});

Deno.test("IceAgent.connect() fails at once when the candidates cannot form any pair", async () => {
  const agent = await IceAgent.gather({ role: "controlled", ...LOOPBACK });
  const started = performance.now();
  const error = await rejection(
    () =>
      agent.connect({
        credentials: { ufrag: "abcd", pwd: "0123456789abcdef012345" },
        candidates: [
          {
            foundation: "1",
            component: 1,
            transport: "udp",
            priority: 1,
            address: "2001:db8::1",
            port: 9,
            type: "host",
          },
          {
            foundation: "2",
            component: 1,
            transport: "udp",
            priority: 1,
            address: "peer.local",
            port: 9,
            type: "host",
          },
        ],
      }, { timeoutMs: TIMEOUT_MS }),
  );
  assert.ok(error instanceof IceFailedError, String(error));
  assert.ok(performance.now() - started < 500, "should not wait for the timeout");
  for (const c of agent.localCandidates) assertPortFree("0.0.0.0", c.port);
});

Deno.test("IceAgent.connect() rejects with the abort reason and closes its sockets when aborted", async () => {
  const [a, b] = await gatherPair();
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  // b never connects, so a waits for a nomination that never comes.
  const error = await rejection(() =>
    a.connect(remoteOf(b), { timeoutMs: TIMEOUT_MS, signal: controller.signal })
  );
  assert.ok(error instanceof DOMException && error.name === "AbortError", String(error));
  for (const c of a.localCandidates) assertPortFree("0.0.0.0", c.port);
  await b.close();
});

Deno.test("IceAgent.gather() rejects an already aborted signal without opening sockets", async () => {
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  const error = await rejection(() =>
    IceAgent.gather({ role: "controlling", ...LOOPBACK, signal: controller.signal })
  );
  assert.equal((error as Error).message, "stop");
});

for (const delayMs of [0, 100]) {
  Deno.test(`IceAgent.close() ${delayMs} ms into connect() rejects it`, async () => {
    const [a, b] = await gatherPair();
    const outcome = rejection(() => a.connect(remoteOf(b), { timeoutMs: TIMEOUT_MS }));
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    await a.close();
    const error = await outcome;
    assert.match((error as Error).message, /closed/);
    for (const c of a.localCandidates) assertPortFree("0.0.0.0", c.port);
    await b.close();
  });
}

for (const first of ["controlling", "controlled"] as const) {
  Deno.test(`the ${first} side releasing the moment connect() resolves does not strand the other`, async () => {
    const [a, b] = await gatherPair();
    const releaseAtOnce = (path: NominatedPath) => path.release().then(() => path);
    const [pathA, pathB] = await Promise.all([
      a.connect(remoteOf(b), { timeoutMs: TIMEOUT_MS }).then((p) =>
        first === "controlling" ? releaseAtOnce(p) : p
      ),
      b.connect(remoteOf(a), { timeoutMs: TIMEOUT_MS }).then((p) =>
        first === "controlled" ? releaseAtOnce(p) : p
      ),
    ]);
    await Promise.all([pathA.release(), pathB.release()]);
    assert.equal(pathA.remote.port, pathB.bindPort);
  });
}

/**
 * A STUN Binding responder on 127.0.0.1 (core/stun's) that reports `mapped`
 * instead of the true source when given.
 */
function stunResponder(mapped?: [string, number]) {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    try {
      for await (const [request, from] of socket) {
        const source = from as Deno.NetAddr;
        const reported = mapped ? { hostname: mapped[0], port: mapped[1] } : source;
        const response = stunResponse(request, reported);
        if (response) await socket.send(response, source);
      }
    } catch {
      // closed
    }
  })();
  return {
    server: `127.0.0.1:${(socket.addr as Deno.NetAddr).port}`,
    async close() {
      socket.close();
      await served;
    },
  };
}

Deno.test("IceAgent.gather() adds a server-reflexive candidate from a STUN server", async () => {
  const stun = stunResponder(["203.0.113.9", 40000]);
  try {
    const agent = await IceAgent.gather({
      role: "controlling",
      ...LOOPBACK,
      stunServers: [stun.server],
    });
    await agent.close();
    const [host, srflx] = agent.localCandidates;
    assert.deepEqual(agent.localCandidates.length, 2);
    assert.deepEqual(
      {
        address: srflx.address,
        port: srflx.port,
        type: srflx.type,
        relatedAddress: srflx.relatedAddress,
        relatedPort: srflx.relatedPort,
      },
      {
        address: "203.0.113.9",
        port: 40000,
        type: "srflx",
        relatedAddress: host.address,
        relatedPort: host.port,
      },
    );
  } finally {
    await stun.close();
  }
});

Deno.test("IceAgent.gather() tags srflx candidates with the mapping two STUN servers showed", async () => {
  const gatherWith = async (a: [string, number], b: [string, number] | undefined) => {
    const first = stunResponder(a);
    const second = b ? stunResponder(b) : undefined;
    try {
      const agent = await IceAgent.gather({
        role: "controlling",
        ...LOOPBACK,
        stunServers: [first.server, ...(second ? [second.server] : [])],
      });
      await agent.close();
      return agent.localCandidates.filter((c) => c.type === "srflx");
    } finally {
      await first.close();
      await second?.close();
    }
  };
  // Both saw the same address: one candidate, independent.
  const same = await gatherWith(["203.0.113.9", 40000], ["203.0.113.9", 40000]);
  assert.deepEqual(same.map((c) => [c.port, c.mapping]), [[40000, "independent"]]);
  // Each saw another port: two candidates, both dependent.
  const differ = await gatherWith(["203.0.113.9", 40000], ["203.0.113.9", 51000]);
  assert.deepEqual(
    differ.map((c) => [c.port, c.mapping]).sort(),
    [[40000, "dependent"], [51000, "dependent"]],
  );
  // One server: no tag (unknown).
  const one = await gatherWith(["203.0.113.9", 40000], undefined);
  assert.deepEqual(one.map((c) => c.mapping), [undefined]);
});

Deno.test("IceAgent.gather() drops a server-reflexive address equal to a host candidate, and survives a silent server", async () => {
  const stun = stunResponder();
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const started = performance.now();
    const agent = await IceAgent.gather({
      role: "controlled",
      ...LOOPBACK,
      stunServers: [stun.server, `127.0.0.1:${(silent.addr as Deno.NetAddr).port}`],
    });
    const elapsed = performance.now() - started;
    await agent.close();
    assert.deepEqual(agent.localCandidates.map((c) => c.type), ["host"]);
    assert.ok(elapsed < 4_000, `a silent STUN server held gathering for ${elapsed} ms`);
  } finally {
    silent.close();
    await stun.close();
  }
});

Deno.test("a process that connects, fails and aborts exits by itself: werift leaves no timers or sockets", async () => {
  const child = new Deno.Command("deno", {
    args: [
      "run",
      "--no-lock",
      "--unstable-net",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      "--allow-net",
      "--ignore-env",
      new URL("./_clean_exit_fixture.ts", import.meta.url).href,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Startup plus ~0.6 s of work; a leaked werift timer would hold it 5 to 30 s.
  const killer = setTimeout(() => child.kill(), 4_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(killer);
  const decoder = new TextDecoder();
  assert.equal(decoder.decode(stdout).trim(), "done", decoder.decode(stderr));
  assert.equal(code, 0, "the child did not exit by itself");
});

// A mapped candidate reached end to end needs a router rewriting source addresses:
// tests/netns/port_mapped_path_test.ts runs it through miniupnpd.
Deno.test("candidateSource: a mapped candidate is offered with its protocol", async () => {
  const agent = await IceAgent.gather({
    role: "controlled",
    ...LOOPBACK,
    candidateSource: (sockets) =>
      Promise.resolve([{
        foundation: "portmappcp",
        component: 1,
        transport: "udp",
        priority: 1_778_384_895,
        address: "203.0.113.7",
        port: 41641,
        type: "srflx",
        relatedAddress: sockets[0].address,
        relatedPort: sockets[0].port,
        portMap: "pcp",
      }]),
  });
  try {
    const mapped = agent.localCandidates.find((c) => c.portMap === "pcp");
    assert.equal(mapped?.address, "203.0.113.7");
    assert.equal(mapped?.relatedPort, agent.localCandidates[0].port);
  } finally {
    await agent.close();
  }
});

Deno.test("candidateSource: one that throws adds nothing; one repeating a host address is not offered twice", async () => {
  const [thrown, repeated] = await Promise.all([
    IceAgent.gather({
      role: "controlling",
      ...LOOPBACK,
      candidateSource: () => Promise.reject(new Error("router on fire")),
    }),
    IceAgent.gather({
      role: "controlled",
      ...LOOPBACK,
      candidateSource: (sockets) =>
        Promise.resolve([{
          foundation: "portmapupnp",
          component: 1,
          transport: "udp",
          priority: 1_778_384_895,
          address: sockets[0].address,
          port: sockets[0].port,
          type: "srflx",
          portMap: "upnp",
        }]),
    }),
  ]);
  try {
    assert.deepEqual(thrown.localCandidates.map((c) => c.type), ["host"]);
    assert.deepEqual(repeated.localCandidates.map((c) => c.type), ["host"]);
  } finally {
    await Promise.all([thrown.close(), repeated.close()]);
  }
});
