// Client and server sessions over an in-memory connection pair, with the
// server's way out (the Dialer) replaced by in-memory services: no process,
// no socket.
import assert from "node:assert/strict";
import type { PeerConnection } from "../transport/mod.ts";
import { connect, echoDialer, serverOptions, text, TOKEN } from "./_session_fixtures.ts";
import { AllowList } from "./allow_list.ts";
import { openClientSession, SessionRefusedError } from "./client_session.ts";
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES } from "./segments.ts";
import { FramedStream } from "./framed_stream.ts";
import { silentLog } from "./log.ts";
import { decodeDatagram, encodeDatagram } from "./messages.ts";
import { forwardingServices } from "./server_session.ts";
import { SessionLimiter } from "./session_limiter.ts";
import { parseSource } from "./source.ts";

/** Everything until the end of `readable`, as text; `prefix` came first. */
async function readAll(
  readable: ReadableStream<Uint8Array>,
  prefix: Uint8Array = new Uint8Array(0),
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [prefix];
  for await (const chunk of readable) parts.push(chunk);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** `data` as one segment of a connection on one stripe (segments.ts). */
function segment(data: string): Uint8Array {
  const payload = new TextEncoder().encode(data);
  const out = new Uint8Array(SEGMENT_HEADER_BYTES + payload.length);
  encodeSegmentHeader(out, { next: 0, length: payload.length });
  out.set(payload, SEGMENT_HEADER_BYTES);
  return out;
}

/** Opens a tcp stream on an accepted session, writes `data`, returns the stream. */
async function openTcp(conn: PeerConnection) {
  const framed = new FramedStream(await conn.openStream());
  await framed.write({ type: "tcp-open", pipeId: 7 });
  return framed;
}

Deno.test("session: a valid token and an allowed source open a session that echoes TCP", async () => {
  const { dialer, dialed } = echoDialer();
  const { client, served } = connect(serverOptions(dialer));
  const session = await openClientSession(client, TOKEN, parseSource("tcp://127.0.0.1:22"));
  const framed = await openTcp(session.conn);
  assert.deepEqual(await framed.read(), { type: "tcp-result", connected: true, reason: "" });
  const { stream, remainder } = framed.release();
  const writer = stream.writable.getWriter();
  await writer.write(segment("ping"));
  // Half-close: our side ends, the echo still comes back, then the stream ends.
  await writer.close();
  assert.deepEqual(await readAll(stream.readable, remainder), segment("ping"));
  assert.deepEqual(dialed, ["127.0.0.1:22"]);
  client.close();
  await served;
});

Deno.test("session: a wrong token is refused as such", async () => {
  const { client, served } = connect(serverOptions(echoDialer().dialer));
  const refused = await openClientSession(
    client,
    new TextEncoder().encode("iWrong"),
    parseSource("tcp://127.0.0.1:22"),
  ).catch((error) => error);
  assert.ok(refused instanceof SessionRefusedError);
  assert.equal(refused.kind, "auth");
  assert.match(refused.message, /invalid authentication token/);
  await served;
});

Deno.test("session: a peer that does not authenticate in time is closed with the reason", async () => {
  const { client, served } = connect(serverOptions(echoDialer().dialer, { authTimeoutMs: 100 }));
  const info = await client.closed;
  assert.match(info.reason, /no valid authentication in time/);
  await served;
});

Deno.test("session: a full server refuses with its limit; the slot frees when a session ends", async () => {
  const options = serverOptions(echoDialer().dialer, { sessions: new SessionLimiter(1) });
  const first = connect(options);
  await openClientSession(first.client, TOKEN, parseSource("tcp://127.0.0.1:22"));
  const second = connect(options);
  const refused = await openClientSession(second.client, TOKEN, parseSource("tcp://127.0.0.1:22"))
    .catch((error) => error);
  assert.equal(refused.kind, "full");
  first.client.close();
  await first.served;
  await second.served;
  const third = connect(options);
  await openClientSession(third.client, TOKEN, parseSource("tcp://127.0.0.1:22"));
  third.client.close();
  await third.served;
});

Deno.test("session: sources outside the allowlist and unknown kinds are refused with why", async () => {
  for (
    const [source, reason] of [
      ["tcp://10.0.0.1:22", /not in the allowed networks|outside|allowed/],
      ["udp://192.168.1.1:53", /allowed/],
    ] as const
  ) {
    const { client, served } = connect(serverOptions(echoDialer().dialer));
    const refused = await openClientSession(client, TOKEN, parseSource(source)).catch((e) => e);
    assert.equal(refused.kind, "source", String(refused));
    assert.match(refused.message, reason);
    await served;
  }
  // A request of a kind no handler serves, sent by hand.
  const { client, served } = connect(serverOptions(echoDialer().dialer));
  const auth = new FramedStream(await client.openStream());
  await auth.write({ type: "auth-request", credential: TOKEN });
  await auth.closeWrite();
  assert.equal((await auth.read())?.type, "auth-response");
  const control = new FramedStream(await client.openStream());
  await control.write({ type: "source-request", source: "ip://10.0.0.0/24" });
  const answer = await control.read();
  assert.equal(answer?.type, "source-response");
  assert.ok(answer?.type === "source-response" && !answer.accepted);
  client.close();
  await served;
});

Deno.test("session: a source that refuses the connection is reported on the stream", async () => {
  const { client, served } = connect(serverOptions(echoDialer({ refuse: true }).dialer));
  const session = await openClientSession(client, TOKEN, parseSource("tcp://127.0.0.1:22"));
  const framed = await openTcp(session.conn);
  const result = await framed.read();
  assert.ok(result?.type === "tcp-result" && !result.connected);
  assert.match(result.reason, /cannot connect to the source 127\.0\.0\.1:22: connection refused/);
  client.close();
  await served;
});

Deno.test("session: UDP flows each get a socket and their own replies", async () => {
  const { dialer, sockets } = echoDialer();
  const { client, served } = connect(serverOptions(dialer));
  const session = await openClientSession(client, TOKEN, parseSource("udp://127.0.0.1:53"));
  for (const flow of [1, 2, 1]) {
    await session.conn.sendDatagram(encodeDatagram(flow, new TextEncoder().encode(`flow ${flow}`)));
    const reply = await session.conn.readDatagram();
    assert.ok(reply);
    const { flowId, payload } = decodeDatagram(reply);
    assert.equal(flowId, flow);
    assert.equal(text(payload), `flow ${flow}`);
  }
  assert.equal(sockets.length, 2, "one socket per flow");
  // Larger than a datagram: the payload travels as a frame on the control stream.
  const big = new Uint8Array(4_000).fill(7);
  await session.control.write({ type: "udp-packet", flowId: 3, payload: big });
  const echoed = await session.control.read();
  assert.ok(echoed?.type === "udp-packet");
  assert.equal(echoed.flowId, 3);
  assert.deepEqual(echoed.payload, big);
  client.close();
  await served;
  assert.ok(sockets.every((s) => s.closed), "every flow's socket closed with the session");
});

Deno.test("session: past the server's UDP flow limit new flows are dropped and said once", async () => {
  const { dialer, sockets } = echoDialer();
  const lines: string[] = [];
  const options = serverOptions(dialer, {
    services: forwardingServices({
      allowedTcp: new AllowList([]),
      allowedUdp: new AllowList(["127.0.0.0/8"]),
      resolve: (host: string) => Promise.resolve([host]),
      dialer,
      processUdpFlows: new SessionLimiter(1),
    }),
    log: { ...silentLog, info: (line: string) => lines.push(line) },
  });
  const { client, served } = connect(options);
  const session = await openClientSession(client, TOKEN, parseSource("udp://127.0.0.1:53"));
  await session.conn.sendDatagram(encodeDatagram(1, Uint8Array.of(1)));
  assert.ok(await session.conn.readDatagram());
  for (const flow of [2, 3]) {
    await session.conn.sendDatagram(encodeDatagram(flow, Uint8Array.of(2)));
  }
  // The first flow still works; the others got no socket.
  await session.conn.sendDatagram(encodeDatagram(1, Uint8Array.of(3)));
  const reply = await session.conn.readDatagram();
  assert.ok(reply);
  assert.equal(decodeDatagram(reply).flowId, 1);
  assert.equal(sockets.length, 1);
  assert.equal(lines.filter((l) => /UDP flows are at their limit 1;/.test(l)).length, 1);
  client.close();
  await served;
});
