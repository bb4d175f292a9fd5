// The relay server and client together over real WebSockets on loopback.
import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { RelayClient, RelayRefusedError, relayWebSocketUrl } from "./client.ts";
import {
  concatBytes,
  encodeClientFrame,
  FrameParser,
  Opcode,
  type WebSocketFrame,
} from "./_websocket_frames.ts";
import { decodeRelayFrame, encodeRelayFrame, type RelayFrame } from "./frames.ts";
import { signChallenge } from "./handshake.ts";
import { serveRelay } from "./serve_relay.ts";
import { createRelayServer, type RelayServerOptions } from "./server.ts";

async function startRelay(options: RelayServerOptions = {}) {
  const relay = createRelayServer(options);
  const server = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    relay,
    url,
    async [Symbol.asyncDispose]() {
      relay.close();
      await server.shutdown();
    },
  };
}

/** A connected client that collects what it receives. */
function client(url: string, key = SecretKey.generate(), accessToken?: string) {
  const received: { source: Uint8Array; payload: Uint8Array }[] = [];
  const gone: Uint8Array[] = [];
  const c = RelayClient.connect({
    url,
    secretKey: key,
    accessToken,
    onDatagram: (source, payload) => received.push({ source, payload }),
    onEndpointGone: (endpoint) => gone.push(endpoint),
  });
  return { c, key, received, gone };
}

async function until(check: () => boolean, ms = 3_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("not in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("relay: two clients exchange datagrams by key, and a leaver is announced", async () => {
  await using r = await startRelay();
  const a = await client(r.url);
  const b = await client(r.url);
  try {
    await Promise.all([a.c.ready(), b.c.ready()]);
    a.c.send(b.key.endpointId.bytes, new TextEncoder().encode("to b"));
    await until(() => b.received.length === 1);
    assert.deepEqual(b.received[0].source, a.key.endpointId.bytes);
    assert.equal(new TextDecoder().decode(b.received[0].payload), "to b");
    b.c.send(a.key.endpointId.bytes, new Uint8Array(60_000).fill(1));
    await until(() => a.received.length === 1);
    assert.equal(a.received[0].payload.length, 60_000);
    assert.equal(r.relay.metrics.datagramsForwarded, 2);
    b.c.close();
    await until(() => a.gone.length === 1);
    assert.deepEqual(a.gone[0], b.key.endpointId.bytes);
  } finally {
    a.c.close();
    b.c.close();
  }
});

Deno.test("relay: datagrams sent in one turn travel as a batch and arrive whole, in order", async () => {
  await using r = await startRelay();
  const a = await client(r.url);
  const b = await client(r.url);
  try {
    await Promise.all([a.c.ready(), b.c.ready()]);
    const sent = [
      ...Array.from({ length: 30 }, (_, i) => new Uint8Array(1_200).fill(i)),
      new Uint8Array(500).fill(99), // ends the batch
      new Uint8Array(1_200).fill(100), // a new one
      Uint8Array.of(101), // ends that one
    ];
    for (const payload of sent) a.c.send(b.key.endpointId.bytes, payload);
    await until(() => b.received.length === sent.length);
    assert.deepEqual(b.received.map((d) => d.payload), sent);
    assert.ok(b.received.every((d) => d.source.every((x, i) => x === a.key.endpointId.bytes[i])));
    assert.equal(r.relay.metrics.datagramsForwarded, sent.length);
    assert.equal(r.relay.metrics.bytesForwarded, 31 * 1_200 + 500 + 1);
  } finally {
    a.c.close();
    b.c.close();
  }
});

Deno.test("relay: a v1 client receives batch frames (iroh-relay-v1 has them)", async () => {
  await using r = await startRelay();
  const key = SecretKey.generate();
  const ws = new WebSocket(relayWebSocketUrl(r.url), ["iroh-relay-v1"]);
  ws.binaryType = "arraybuffer";
  const frames: RelayFrame[] = [];
  ws.onmessage = (event) => {
    const frame = decodeRelayFrame(new Uint8Array(event.data), 1);
    if (frame.type === "server-challenge") {
      ws.send(encodeRelayFrame(signChallenge(key, frame.challenge), 1));
    }
    frames.push(frame);
  };
  const a = await client(r.url);
  try {
    await a.c.ready();
    await until(() => frames.some((f) => f.type === "server-confirms-auth"));
    for (let i = 0; i < 3; i++) a.c.send(key.endpointId.bytes, new Uint8Array(100).fill(i));
    await until(() => frames.some((f) => f.type === "relay-to-client-datagram"));
    const datagram = frames.find((f) => f.type === "relay-to-client-datagram");
    assert.deepEqual(datagram, {
      type: "relay-to-client-datagram",
      source: a.key.endpointId.bytes,
      ecn: 0,
      payload: Uint8Array.from([0, 1, 2].flatMap((i) => Array(100).fill(i))),
      segmentSize: 100,
    });
  } finally {
    a.c.close();
    ws.close();
  }
});

/** A raw v2 WebSocket client that authenticates; `answer` decides whether it pongs. */
function rawClient(url: string, answer: boolean) {
  const key = SecretKey.generate();
  const ws = new WebSocket(relayWebSocketUrl(url), ["iroh-relay-v2"]);
  ws.binaryType = "arraybuffer";
  const state = { authenticated: false, pings: 0, closed: false };
  ws.onmessage = (event) => {
    const frame = decodeRelayFrame(new Uint8Array(event.data), 2);
    if (frame.type === "server-challenge") {
      ws.send(encodeRelayFrame(signChallenge(key, frame.challenge), 2));
    } else if (frame.type === "server-confirms-auth") state.authenticated = true;
    else if (frame.type === "ping") {
      state.pings++;
      if (answer) ws.send(encodeRelayFrame({ type: "pong", data: frame.data }, 2));
    }
  };
  ws.onclose = () => state.closed = true;
  return { ws, state };
}

Deno.test("relay: pings a quiet client and closes it when no pong comes back", async () => {
  await using r = await startRelay({
    timing: { pingIntervalMs: 100, pingJitterMs: 0, pongTimeoutMs: 150 },
  });
  const answering = rawClient(r.url, true);
  const silent = rawClient(r.url, false);
  try {
    await until(() => silent.state.closed);
    assert.ok(silent.state.authenticated && silent.state.pings === 1);
    assert.equal(r.relay.metrics.refusals.timeout, 1);
    await until(() => answering.state.pings >= 3);
    assert.equal(answering.state.closed, false);
  } finally {
    answering.ws.close();
    silent.ws.close();
  }
});

Deno.test("relay: a client that floods but never answers the relay's pings is cut", async () => {
  await using r = await startRelay({
    timing: { pingIntervalMs: 200, pingJitterMs: 0, pongTimeoutMs: 200 },
  });
  const busy = rawClient(r.url, false);
  const closed = new Promise<CloseEvent>((resolve) => busy.ws.addEventListener("close", resolve));
  try {
    await until(() => busy.state.authenticated);
    // Its own pings and datagrams (to nobody) every 10 ms, for 3 s at most: its
    // traffic must not stand in for the pongs it never sends.
    const ping = encodeRelayFrame({ type: "ping", data: new Uint8Array(8) }, 2);
    const datagram = encodeRelayFrame({
      type: "client-to-relay-datagram",
      destination: SecretKey.generate().endpointId.bytes,
      ecn: 0,
      payload: new Uint8Array(1_000),
    }, 2);
    const deadline = Date.now() + 3_000;
    while (!busy.state.closed && Date.now() < deadline) {
      busy.ws.send(ping);
      busy.ws.send(datagram);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(busy.state.closed, "still connected after 3 s of sending without answering");
    const event = await closed;
    assert.equal(event.code, 1000);
    assert.equal(event.reason, "no pong in time");
    assert.equal(busy.state.pings, 1);
    assert.equal(r.relay.metrics.refusals.timeout, 1);
    assert.ok(r.relay.metrics.dropped["no-peer"] > 0, "its datagrams reached the relay");
  } finally {
    busy.ws.close();
  }
});

Deno.test("relay: access tokens admit their holders only", async () => {
  await using r = await startRelay({ accessTokens: ["s3cret"] });
  const ok = await client(r.url, SecretKey.generate(), "s3cret");
  const bad = await client(r.url, SecretKey.generate(), "wrong");
  try {
    await ok.c.ready();
    await assert.rejects(bad.c.ready(), RelayRefusedError);
    assert.equal(r.relay.metrics.refusals.access, 1);
  } finally {
    ok.c.close();
    bad.c.close();
  }
});

Deno.test("relay: garbage and a client that never authenticates do not disturb others", async () => {
  await using r = await startRelay({ timing: { handshakeMs: 300 } });
  const a = await client(r.url);
  const b = await client(r.url);
  const ws = relayWebSocketUrl(r.url);
  const idle = new WebSocket(ws, ["iroh-relay-v2"]);
  const hostile = new WebSocket(ws, ["iroh-relay-v2"]);
  const hostileOpen = new Promise((resolve) => hostile.onopen = resolve);
  try {
    await Promise.all([a.c.ready(), b.c.ready()]);
    await hostileOpen;
    hostile.send(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3));
    hostile.send("text is not a frame");
    await until(() => r.relay.metrics.refusals.protocol >= 1);
    await until(() => r.relay.metrics.refusals.timeout >= 1);
    a.c.send(b.key.endpointId.bytes, Uint8Array.of(7));
    await until(() => b.received.length === 1);
  } finally {
    idle.close();
    hostile.close();
    a.c.close();
    b.c.close();
  }
});

Deno.test("relay: a client reconnects by itself after the relay restarts", async () => {
  const relay = createRelayServer();
  let server = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
  const port = server.port;
  const url = `http://127.0.0.1:${port}`;
  const a = await client(url);
  const b = await client(url);
  try {
    await Promise.all([a.c.ready(), b.c.ready()]);
    relay.close();
    await server.shutdown();
    await until(() => !a.c.connected && !b.c.connected);
    server = await serveRelay(relay, { hostname: "127.0.0.1", port });
    await until(() => a.c.connected && b.c.connected, 10_000);
    a.c.send(b.key.endpointId.bytes, Uint8Array.of(9));
    await until(() => b.received.length === 1);
  } finally {
    a.c.close();
    b.c.close();
    relay.close();
    await server.shutdown();
  }
});

Deno.test("relay HTTP routes: /ping, /generate_204, /metrics, and /relay without a subprotocol", async () => {
  await using r = await startRelay();
  assert.equal(
    await fetch(`${r.url}/ping`).then(async (res) => (await res.body?.cancel(), res.status)),
    200,
  );
  const generate = await fetch(`${r.url}/generate_204`, { headers: { "x-iroh-challenge": "abc" } });
  assert.equal(generate.status, 204);
  assert.equal(generate.headers.get("x-iroh-response"), "response abc");
  const metrics = await (await fetch(`${r.url}/metrics`)).text();
  assert.match(metrics, /^tunnel_relay_clients 0$/m);
  const plain = await fetch(`${r.url}/relay`);
  assert.equal(plain.status, 400);
  await plain.body?.cancel();
  // A frame encoded for v2 exists for every type the server sends.
  assert.ok(encodeRelayFrame({ type: "server-confirms-auth" }, 2).length >= 1);
});

/** An upgrade request for `/relay` (or `path`) as raw bytes, subprotocol v2 unless given. */
function upgradeRequest(
  { path = "/relay", key = "dGhlIHNhbXBsZSBub25jZQ==", protocol = "iroh-relay-v2" } = {},
): Uint8Array {
  return new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") + "\r\n",
  );
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}

Deno.test("relay: a message declared over 1 MiB is refused from its header, its payload never read", async () => {
  await using r = await startRelay({ timing: { handshakeMs: 200 } });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(r.url).port) });
  try {
    // The frame header comes in the same write as the request: a binary frame,
    // masked (zero mask), declaring 48 MiB.
    const header = new Uint8Array(14);
    header.set([0x82, 0x80 | 127]);
    new DataView(header.buffer).setBigUint64(2, BigInt(48 << 20));
    const request = upgradeRequest();
    const first = new Uint8Array(request.length + header.length);
    first.set(request);
    first.set(header, request.length);
    await writeAll(conn, first);
    // The kernel holds a few MiB at most: if the relay stops reading, a write
    // fails (it cuts the connection) long before 48 MiB are through.
    const piece = new Uint8Array(1 << 20);
    let sent = 0;
    try {
      for (; sent < 48 << 20; sent += piece.length) await writeAll(conn, piece);
    } catch { /* cut off */ }
    assert.ok(sent < 48 << 20, `the relay read all ${sent} bytes`);
    await until(() => r.relay.metrics.refusals.protocol === 1);
    // Counted once, as a protocol error: no handshake timeout fires for it later.
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(r.relay.metrics.refusals.timeout, 0);
  } finally {
    conn.close();
  }
});

Deno.test("relay: an upgrade to another path is 404; without a key or subprotocol, 400", async () => {
  await using r = await startRelay();
  const port = Number(new URL(r.url).port);
  for (
    const [request, status] of [
      [upgradeRequest({ path: "/elsewhere" }), 404],
      [upgradeRequest({ key: "short" }), 400],
      [upgradeRequest({ protocol: "" }), 400],
    ] as const
  ) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await writeAll(conn, request);
      let answer = "";
      const buffer = new Uint8Array(1024);
      for (let n; (n = await conn.read(buffer)) !== null;) {
        answer += new TextDecoder().decode(buffer.subarray(0, n));
      }
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), answer);
    } finally {
      conn.close();
    }
  }
  assert.equal(r.relay.metrics.accepted, 0);
});

Deno.test("relay: refused and misbehaving clients give their place back (max-clients 1)", async () => {
  await using r = await startRelay({ maxClients: 1, accessTokens: ["s3cret"] });
  const port = Number(new URL(r.url).port);
  // Refused for its token, three times over.
  for (let i = 0; i < 3; i++) {
    const bad = client(r.url, SecretKey.generate(), "wrong");
    await assert.rejects(bad.c.ready(), RelayRefusedError);
    bad.c.close();
  }
  // Closed for garbage that came in the same write as its upgrade request.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = upgradeRequest({ path: "/relay?token=s3cret" });
    const garbage = Uint8Array.of(0x82, 0x81, 0, 0, 0, 0, 0x3f); // masked, unknown frame type
    const first = new Uint8Array(request.length + garbage.length);
    first.set(request);
    first.set(garbage, request.length);
    await writeAll(conn, first);
    await until(() => r.relay.metrics.refusals.protocol === 1);
  } finally {
    conn.close();
  }
  const ok = client(r.url, SecretKey.generate(), "s3cret");
  try {
    await ok.c.ready();
    assert.equal(r.relay.metrics.refusals.capacity, 0);
  } finally {
    ok.c.close();
  }
});

Deno.test("relay: before the handshake, a message over 4 KiB is refused (a ClientAuth is ~100 bytes)", async () => {
  await using r = await startRelay();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(r.url).port) });
  try {
    // A binary frame, masked (zero mask), declaring 8 KiB: 16-bit length form.
    const header = Uint8Array.of(0x82, 0x80 | 126, 0x20, 0x00, 0, 0, 0, 0);
    await writeAll(conn, upgradeRequest());
    await writeAll(conn, header);
    let answer = "";
    const buffer = new Uint8Array(1024);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      answer += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assert.match(answer, /message over 4096 bytes/);
    assert.equal(r.relay.metrics.refusals.protocol, 1);
  } finally {
    conn.close();
  }
});

Deno.test("relay: at --max-clients, a client racing another to authenticate is refused with the reason", async () => {
  await using r = await startRelay({ maxClients: 1 });
  // Both upgrade at once; whichever is second (at its upgrade or its ClientAuth) is refused.
  const a = client(r.url);
  const b = client(r.url);
  try {
    const results = await Promise.allSettled([a.c.ready(), b.c.ready()]);
    assert.equal(results.filter((result) => result.status === "fulfilled").length, 1);
    const refused = results.find((result) => result.status === "rejected");
    assert.ok(refused?.status === "rejected" && refused.reason instanceof RelayRefusedError);
    assert.match(refused.reason.message, /client limit/);
    assert.equal(r.relay.metrics.clients, 1);
    assert.equal(r.relay.metrics.refusals.capacity, 1);
  } finally {
    a.c.close();
    b.c.close();
  }
});

/**
 * A v2 client on a raw TCP connection that writes WebSocket frames itself, so
 * it can send a message in pieces, fragmented or cut inside a frame.
 */
class RawRelayConnection {
  readonly key = SecretKey.generate();
  readonly #conn: Deno.Conn;
  readonly #parser = new FrameParser(1 << 20);
  readonly #frames: WebSocketFrame[] = [];
  readonly #buffer = new Uint8Array(64 << 10);
  #mask = Uint8Array.of(9, 8, 7, 6);

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects, upgrades and authenticates. */
  static async open(port: number): Promise<RawRelayConnection> {
    const raw = new RawRelayConnection(await Deno.connect({ hostname: "127.0.0.1", port }));
    await writeAll(raw.#conn, upgradeRequest());
    let head: Uint8Array = new Uint8Array(0);
    let end = -1;
    while (end < 0) {
      const n = await raw.#conn.read(raw.#buffer);
      if (n === null) throw new Error("closed during the upgrade");
      head = concatBytes([head, raw.#buffer.subarray(0, n)]);
      end = new TextDecoder().decode(head).indexOf("\r\n\r\n");
    }
    raw.#frames.push(...raw.#parser.push(head.slice(end + 4)));
    const challenge = decodeRelayFrame((await raw.next()).payload, 2);
    assert.equal(challenge.type, "server-challenge");
    await raw.send(
      Opcode.Binary,
      encodeRelayFrame(signChallenge(raw.key, challenge.challenge), 2),
    );
    assert.equal(decodeRelayFrame((await raw.next()).payload, 2).type, "server-confirms-auth");
    return raw;
  }

  /** The next WebSocket frame from the relay. */
  async next(): Promise<WebSocketFrame> {
    while (this.#frames.length === 0) {
      const n = await this.#conn.read(this.#buffer);
      if (n === null) throw new Error("the relay closed the connection");
      this.#frames.push(...this.#parser.push(this.#buffer.slice(0, n)));
    }
    return this.#frames.shift()!;
  }

  /** Writes one frame; `fin` false leaves its message open for continuations. */
  async send(opcode: number, payload: Uint8Array, fin = true): Promise<void> {
    await this.write(this.frame(opcode, payload, fin));
  }

  /** The bytes of one frame, to be written in pieces. */
  frame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
    const frame = encodeClientFrame(opcode, payload, this.#mask);
    if (!fin) frame[0] &= 0x7f;
    return frame;
  }

  write(bytes: Uint8Array): Promise<void> {
    return writeAll(this.#conn, bytes);
  }

  /** A WebSocket Ping, then frames until its Pong: the relay has read all before it. */
  async roundTrip(): Promise<void> {
    await this.send(Opcode.Ping, Uint8Array.of(1));
    for (let frame; (frame = await this.next()).opcode !== Opcode.Pong;) {
      if (frame.opcode === Opcode.Close) throw new Error(`closed: ${closeReason(frame)}`);
    }
  }

  /** The code and reason of the relay's close frame, skipping anything before it. */
  async closed(): Promise<string> {
    let frame;
    do frame = await this.next(); while (frame.opcode !== Opcode.Close);
    return closeReason(frame);
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

function closeReason(frame: WebSocketFrame): string {
  const code = (frame.payload[0] << 8) | frame.payload[1];
  return `${code} ${new TextDecoder().decode(frame.payload.subarray(2))}`;
}

Deno.test("relay: messages still arriving are held within a total for all clients; one over it is closed, the others go on", async () => {
  const PAYLOAD = 50_000;
  // Two messages of 50,000 bytes fit, a third does not.
  const lines: string[] = [];
  await using r = await startRelay({
    limits: { receiveBudget: { total: 120_000 } },
    log: { info: (line) => lines.push(line), debug() {} },
  });
  const port = Number(new URL(r.url).port);
  const receiver = await client(r.url);
  const raws: RawRelayConnection[] = [];
  const open = async () => {
    const raw = await RawRelayConnection.open(port);
    raws.push(raw);
    return raw;
  };
  const to = receiver.key.endpointId.bytes;
  /** A datagram to the receiver, as a relay frame, filled with `fill`. */
  const datagram = (fill: number) =>
    encodeRelayFrame({
      type: "client-to-relay-datagram",
      destination: to,
      ecn: 0,
      payload: new Uint8Array(PAYLOAD).fill(fill),
    }, 2);
  /** Sends all of `message` but its last 1,000 bytes, as a first fragment; the relay has read it. */
  const start = async (raw: RawRelayConnection, message: Uint8Array) => {
    await raw.send(Opcode.Binary, message.subarray(0, message.length - 1_000), false);
    await raw.roundTrip();
  };
  const finish = (raw: RawRelayConnection, message: Uint8Array) =>
    raw.send(Opcode.Continuation, message.subarray(message.length - 1_000));
  const arrived = (fill: number) => receiver.received.filter((d) => d.payload[0] === fill).length;
  try {
    await receiver.c.ready();
    const [a, b, c] = [await open(), await open(), await open()];
    await start(a, datagram(1));
    await start(b, datagram(2));
    // c's message is cut inside its frame: its declared size does not fit what is left.
    const third = c.frame(Opcode.Binary, datagram(3));
    await c.write(third.subarray(0, 2_000));
    assert.match(await c.closed(), /^4008 over the relay's receive budget/);
    assert.equal(r.relay.metrics.refusals["receive-budget"], 1);
    assert.deepEqual(lines.filter((line) => line.includes("receive budget")), [
      "relay: closed a client over the receive budget: a frame of 50034 bytes still arriving " +
      "(120000 bytes held for messages still arriving, in all)",
    ]);
    // a and b are not disturbed: their messages arrive whole.
    await finish(a, datagram(1));
    await finish(b, datagram(2));
    await until(() => arrived(1) === 1 && arrived(2) === 1);
    assert.ok(receiver.received.every((d) => d.payload.length === PAYLOAD));
    // Delivered messages gave their bytes back: two more fit.
    await start(a, datagram(4));
    await start(b, datagram(5));
    // A connection that goes gives back what it held: a newcomer's fits.
    const clients = r.relay.metrics.clients;
    a.close();
    await until(() => r.relay.metrics.clients === clients - 1);
    const d = await open();
    await start(d, datagram(6));
    await finish(b, datagram(5));
    await finish(d, datagram(6));
    await until(() => arrived(5) === 1 && arrived(6) === 1);
    assert.equal(arrived(4), 0);
    // A message in one piece, as any client sends, goes through as ever.
    await d.send(Opcode.Binary, datagram(7));
    await until(() => arrived(7) === 1);
    assert.equal(r.relay.metrics.refusals["receive-budget"], 1);
    assert.equal(r.relay.metrics.refusals.protocol, 0);
  } finally {
    receiver.c.close();
    for (const raw of raws) raw.close();
  }
});

Deno.test("relay: after the handshake, a message over a relay frame's 64 KiB (and its type) is refused from its header", async () => {
  await using r = await startRelay();
  const raw = await RawRelayConnection.open(Number(new URL(r.url).port));
  try {
    // 64 KiB and 8 bytes is the longest a relay frame can be; one byte more is refused.
    const frame = raw.frame(Opcode.Binary, new Uint8Array((64 << 10) + 9));
    await raw.write(frame.subarray(0, 14));
    assert.match(await raw.closed(), /^4002 protocol error: message over 65544 bytes/);
  } finally {
    raw.close();
  }
});

Deno.test("relay: while the relay is away the send queue keeps the newest 256; after it, the newest queued for a peer reach it although it came back later", async () => {
  const relay = createRelayServer();
  let server = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
  const port = server.port;
  const url = `http://127.0.0.1:${port}`;
  const a = client(url);
  let b = client(url);
  try {
    await Promise.all([a.c.ready(), b.c.ready()]);
    relay.close();
    await server.shutdown();
    await until(() => !a.c.connected && !b.c.connected);
    b.c.close(); // b comes back later, below
    // A flood while away: the queue holds the newest 256 and counts the rest as dropped.
    const numbered = (i: number) => Uint8Array.of(i >> 8, i & 0xff);
    for (let i = 0; i < 1_000; i++) a.c.send(b.key.endpointId.bytes, numbered(i));
    assert.equal(a.c.dropped, 1_000 - 256);
    server = await serveRelay(relay, { hostname: "127.0.0.1", port });
    await until(() => a.c.connected, 10_000);
    // The queue went out at once, into nothing: b is not there yet.
    await new Promise((r) => setTimeout(r, 1_300));
    b = client(url, b.key);
    await b.c.ready();
    // The replays at 2, 4, 6 and 8 s bring the newest four, no older one.
    await until(() => a.c.replayed >= 20, 10_000);
    await until(() => b.received.length >= 16, 2_000);
    const seen = new Set(b.received.map((d) => (d.payload[0] << 8) | d.payload[1]));
    assert.deepEqual([...seen].sort(), [996, 997, 998, 999]);
    assert.deepEqual(b.received[0].payload, numbered(996));
    assert.equal(a.c.replayed, 20, "five rounds of four");
  } finally {
    a.c.close();
    b.c.close();
    relay.close();
    await server.shutdown();
  }
});
