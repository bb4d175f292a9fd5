import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { IceFailedError, type NominatedPath } from "../nat/mod.ts";
import { acceptOverIce, dialOverIce } from "./ice_connect.ts";
import { memoryChannelPair } from "./memory_channel.ts";
import type { IceAnswer, IceOffer } from "./signaling_channel.ts";

const LOOPBACK_ONLY = { stunServers: [], hostAddresses: ["127.0.0.1"] };
const ALPN = "connect-test/1";

Deno.test("dialOverIce() and acceptOverIce() meet through a channel and carry a stream", async () => {
  const [client, server] = memoryChannelPair<IceOffer, IceAnswer>();
  const key = SecretKey.generate();
  const paths: string[] = [];
  const [dialed, accepted] = await Promise.all([
    dialOverIce({
      channel: client,
      ...LOOPBACK_ONLY,
      alpn: ALPN,
      onPath: (p) => paths.push(p.connectionType),
    }),
    acceptOverIce({ channel: server, ...LOOPBACK_ONLY, alpn: ALPN, secretKey: key }),
  ]);
  try {
    assert.equal(paths.length, 1);
    const stream = await dialed.openStream();
    const writer = stream.writable.getWriter();
    await writer.write(new TextEncoder().encode("hello"));
    await writer.close();
    const incoming = await accepted.acceptStream();
    assert.ok(incoming);
    const text = await new Response(incoming.readable).text();
    assert.equal(text, "hello");
  } finally {
    dialed.close();
    accepted.close();
    await Promise.all([dialed.closed, accepted.closed]);
  }
});

Deno.test("dialOverIce() passes on the channel's refusal and leaves nothing open", async () => {
  const refusing = {
    send: async (_: IceOffer) => {},
    receive: (): Promise<IceAnswer> => Promise.reject(new Error("server refused source")),
  };
  await assert.rejects(
    dialOverIce({ channel: refusing, ...LOOPBACK_ONLY, alpn: ALPN }),
    /server refused source/,
  );
});

Deno.test("dialOverIce() fails with IceFailedError when the peer's candidates never answer", async () => {
  const [client, server] = memoryChannelPair<IceOffer, IceAnswer>();
  // A peer that answers with a candidate nobody listens on.
  const fake = (async () => {
    const offer = await server.receive();
    await server.send({
      ice: {
        credentials: offer.ice.credentials,
        candidates: [{ ...offer.ice.candidates[0], port: 9 }],
      },
      serverId: SecretKey.generate().endpointId,
    });
  })();
  await assert.rejects(
    dialOverIce({ channel: client, ...LOOPBACK_ONLY, alpn: ALPN, timeoutMs: 1_500 }),
    IceFailedError,
  );
  await fake;
});

Deno.test("the accepting side may speak first (nostr mode's order): same path, same pinning", async () => {
  const [client, server] = memoryChannelPair<IceOffer, IceAnswer>();
  const key = SecretKey.generate();
  const order: string[] = [];
  const [dialed, accepted] = await Promise.all([
    dialOverIce({
      channel: {
        send: (m) => (order.push("dialer sends"), client.send(m)),
        receive: () => client.receive().then((m) => (order.push("dialer receives"), m)),
      },
      ...LOOPBACK_ONLY,
      alpn: ALPN,
      firstSpeaker: "acceptor",
    }),
    acceptOverIce({
      channel: server,
      ...LOOPBACK_ONLY,
      alpn: ALPN,
      secretKey: key,
      firstSpeaker: "acceptor",
    }),
  ]);
  try {
    assert.deepEqual(order, ["dialer receives", "dialer sends"]);
    const stream = await dialed.openStream();
    const writer = stream.writable.getWriter();
    await writer.write(new TextEncoder().encode("acceptor first"));
    await writer.close();
    const incoming = await accepted.acceptStream();
    assert.equal(await new Response(incoming!.readable).text(), "acceptor first");
  } finally {
    dialed.close();
    accepted.close();
    await Promise.all([dialed.closed, accepted.closed]);
  }
});

Deno.test("dialOverIce() says once when gathering waits on a STUN server that stays silent", async () => {
  // A STUN server that reads and never answers: gathering waits out its retransmissions (~3 s).
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (silent.addr as Deno.NetAddr).port;
  const refusing = {
    send: async (_: IceOffer) => {},
    receive: (): Promise<IceAnswer> => Promise.reject(new Error("no answer")),
  };
  let slow = 0;
  try {
    await assert.rejects(
      dialOverIce({
        channel: refusing,
        stunServers: [`127.0.0.1:${port}`],
        hostAddresses: ["127.0.0.1"],
        alpn: ALPN,
        onSlowGathering: () => slow++,
      }),
      /no answer/,
    );
    assert.equal(slow, 1);
    // Without STUN, gathering is quick and nothing is said.
    await assert.rejects(
      dialOverIce({
        channel: refusing,
        ...LOOPBACK_ONLY,
        alpn: ALPN,
        onSlowGathering: () => slow++,
      }),
      /no answer/,
    );
    assert.equal(slow, 1);
  } finally {
    silent.close();
  }
});

/** Rewrites every candidate to an address no loopback candidate pairs with: ICE fails at once. */
function unpairable<S, R>(channel: { send(m: S): Promise<void>; receive(): Promise<R> }) {
  const rewrite = <T>(message: T): T => {
    const m = message as { ice: { candidates: { address: string }[] } };
    return {
      ...m,
      ice: {
        ...m.ice,
        candidates: m.ice.candidates.map((c) => ({ ...c, address: "2001:db8::1" })),
      },
    } as T;
  };
  return { send: (m: S) => channel.send(rewrite(m)), receive: () => channel.receive() };
}

function freeUdpPort(): number {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  socket.close();
  return port;
}

/** A path on loopback, as a fallback would hand it over (socket released). */
function loopbackPath(bindPort: number, remotePort: number): NominatedPath {
  return {
    local: { address: "127.0.0.1", port: bindPort, type: "srflx" },
    remote: { address: "127.0.0.1", port: remotePort, type: "prflx" },
    connectionType: "NAT Traversal (Birthday)",
    method: "birthday",
    bindAddress: "127.0.0.1",
    bindPort,
    release: () => Promise.resolve(),
  };
}

Deno.test("fallback: once ICE finds no pair, the fallback's path carries the QUIC connection", async () => {
  const [client, server] = memoryChannelPair<IceOffer, IceAnswer>();
  const key = SecretKey.generate();
  const [dialerPort, acceptorPort] = [freeUdpPort(), freeUdpPort()];
  const failures: string[] = [];
  const methods: string[] = [];
  const [dialed, accepted] = await Promise.all([
    dialOverIce({
      channel: unpairable(client),
      ...LOOPBACK_ONLY,
      alpn: ALPN,
      fallback: {
        iceTimeoutMs: () => undefined,
        run: (local, remote, failure) => {
          failures.push(failure.message);
          assert.ok(local.candidates.length > 0 && remote.candidates.length > 0);
          return Promise.resolve(loopbackPath(dialerPort, acceptorPort));
        },
      },
      onPath: (p) => methods.push(p.method),
    }),
    acceptOverIce({
      channel: unpairable(server),
      ...LOOPBACK_ONLY,
      alpn: ALPN,
      secretKey: key,
      fallback: {
        iceTimeoutMs: () => undefined,
        run: () => Promise.resolve(loopbackPath(acceptorPort, dialerPort)),
      },
      onPath: (p) => methods.push(p.method),
    }),
  ]);
  try {
    assert.equal(failures.length, 1);
    assert.match(failures[0], /can pair/);
    assert.deepEqual(methods, ["birthday", "birthday"]);
    assert.equal(dialed.remoteAddr.port, acceptorPort);
  } finally {
    dialed.close();
    accepted.close();
    await Promise.all([dialed.closed, accepted.closed]);
  }
});

Deno.test("fallback: its rejection is what the connect rejects with", async () => {
  const [client, server] = memoryChannelPair<IceOffer, IceAnswer>();
  const key = SecretKey.generate();
  const results = await Promise.allSettled([
    dialOverIce({
      channel: unpairable(client),
      ...LOOPBACK_ONLY,
      alpn: ALPN,
      fallback: {
        iceTimeoutMs: () => undefined,
        run: () => Promise.reject(new Error("no probe hit")),
      },
    }),
    acceptOverIce({
      channel: unpairable(server),
      ...LOOPBACK_ONLY,
      alpn: ALPN,
      secretKey: key,
      fallback: {
        iceTimeoutMs: () => undefined,
        run: (_l, _r, failure) => Promise.reject(failure),
      },
    }),
  ]);
  assert.equal(results[0].status, "rejected");
  assert.match(String((results[0] as PromiseRejectedResult).reason), /no probe hit/);
  assert.ok((results[1] as PromiseRejectedResult).reason instanceof IceFailedError);
});

Deno.test("fallback: its ICE time limit replaces timeoutMs for the pair of sides it applies to", async () => {
  const [client, server] = memoryChannelPair<IceOffer, IceAnswer>();
  const fake = (async () => {
    const offer = await server.receive();
    await server.send({
      ice: {
        credentials: offer.ice.credentials,
        candidates: [{ ...offer.ice.candidates[0], port: 9 }], // nobody answers there
      },
      serverId: SecretKey.generate().endpointId,
    });
  })();
  const started = performance.now();
  await assert.rejects(
    dialOverIce({
      channel: client,
      ...LOOPBACK_ONLY,
      alpn: ALPN,
      timeoutMs: 20_000,
      fallback: {
        iceTimeoutMs: (local, remote) =>
          local.candidates.length && remote.candidates.length ? 300 : 1,
        run: () => Promise.reject(new Error("the fallback ran")),
      },
    }),
    /the fallback ran/,
  );
  assert.ok(performance.now() - started < 3_000, `${performance.now() - started} ms`);
  await fake;
});
