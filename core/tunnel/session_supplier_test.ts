// The client's forwarding loops across a lost and a new session: sessions in
// memory (a server session on the other end of a memory pair), local ends on
// loopback sockets, and the real Reconnector with short waits.
import assert from "node:assert/strict";
import { Backoff, Reconnector } from "../connect/mod.ts";
import { CloseCode } from "../transport/mod.ts";
import { connect, echoDialer, serverOptions, TOKEN } from "./_session_fixtures.ts";
import { type ClientSession, forwardTcp, forwardUdp, openClientSession } from "./client_session.ts";
import type { TunnelLog } from "./log.ts";
import { singleSession } from "./session_supplier.ts";
import { parseSource } from "./source.ts";

/** A server that can be taken down: while down, new sessions fail. */
function flakyServer(source: string) {
  const { dialer } = echoDialer();
  const options = serverOptions(dialer);
  const state = { up: true, sessions: [] as ClientSession[] };
  const open = async () => {
    if (!state.up) throw new Error("no answer");
    const { client } = connect(options);
    const session = await openClientSession(client, TOKEN, parseSource(source));
    state.sessions.push(session);
    return session;
  };
  /** The live session's connection ends, as when the server is killed; new ones fail. */
  const kill = () => {
    state.up = false;
    state.sessions.at(-1)!.conn.close({ code: CloseCode.ServerUnavailable, reason: "killed" });
  };
  return { state, open, kill };
}

/** A reconnector of `server`'s sessions that retries every 20-40 ms. */
async function reconnecting(server: ReturnType<typeof flakyServer>, waitMs: number) {
  const lines: string[] = [];
  const reconnector = new Reconnector<ClientSession>(await server.open(), {
    connect: server.open,
    lost: (session) => session.conn.closed.then((info) => info.reason),
    close: (session, reason) => session.conn.close({ code: CloseCode.Done, reason }),
    waitMs,
    backoff: new Backoff({ minMs: 40, maxMs: 40 }),
    onLost: (reason) => lines.push(`lost: ${reason}`),
    onRestored: () => lines.push("restored"),
  });
  return { reconnector, lines };
}

function recordingLog(): TunnelLog & { warnings: string[] } {
  const warnings: string[] = [];
  return { info() {}, debug() {}, warn: (line) => warnings.push(line), warnings };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `text` on `conn` and reads the same number of bytes back, or null at end. */
async function echo(conn: Deno.TcpConn, text: string): Promise<string | null> {
  await conn.write(new TextEncoder().encode(text));
  const buffer = new Uint8Array(text.length);
  let got = 0;
  while (got < buffer.length) {
    const n = await conn.read(buffer.subarray(got)).catch(() => null);
    if (n === null) return null;
    got += n;
  }
  return new TextDecoder().decode(buffer);
}

Deno.test("singleSession() supplies its session until the connection ends, then says it was lost", async () => {
  const server = flakyServer("tcp://127.0.0.1:22");
  const session = await server.open();
  const sessions = singleSession(session);
  assert.equal(await sessions.current(), session);
  assert.equal(sessions.peek(), session);
  server.kill();
  const ended = await sessions.ended;
  assert.equal(ended.message, "Connection to the server lost: killed");
  assert.equal(sessions.peek(), undefined);
  await assert.rejects(sessions.current(), /the connection to the server was lost/);

  const other = singleSession(await flakyServer("tcp://127.0.0.1:22").open());
  other.close("client shut down");
  assert.equal((await other.ended).message, "Connection to the server lost: client shut down");
});

Deno.test("forwardTcp() holds a local connection made between sessions and forwards it through the next", async () => {
  const server = flakyServer("tcp://127.0.0.1:22");
  const { reconnector, lines } = await reconnecting(server, 5_000);
  const log = recordingLog();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const forwarding = forwardTcp(reconnector, listener, log);
  const local = () => Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });

  const before = await local();
  assert.equal(await echo(before, "first session"), "first session");
  server.kill();
  // A connection open through the lost session ends with it.
  assert.equal(await echo(before, "x"), null);
  before.close();

  const during = await local();
  const answered = echo(during, "next session");
  await sleep(200);
  assert.equal(reconnector.state, "reconnecting");
  server.state.up = true;
  assert.equal(await answered, "next session");
  assert.deepEqual(lines, ["lost: killed", "restored"]);
  assert.deepEqual(log.warnings, []);
  during.close();

  reconnector.close("done");
  listener.close();
  await forwarding;
});

Deno.test("forwardTcp() closes a local connection that waited out the bound, saying why once", async () => {
  const server = flakyServer("tcp://127.0.0.1:22");
  const { reconnector } = await reconnecting(server, 300);
  const log = recordingLog();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const forwarding = forwardTcp(reconnector, listener, log);
  server.kill();
  await sleep(50);
  const conns = await Promise.all(
    [1, 2, 3].map(() => Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port })),
  );
  const started = performance.now();
  const results = await Promise.all(conns.map((conn) => echo(conn, "hello")));
  const waited = performance.now() - started;
  assert.deepEqual(results, [null, null, null]);
  assert.ok(waited >= 250 && waited < 2_000, `closed after ${waited.toFixed(0)} ms`);
  assert.equal(log.warnings.length, 1, log.warnings.join("\n"));
  assert.match(
    log.warnings[0],
    /^connection from 127\.0\.0\.1:\d+ closed: no session to the server: not reconnected within 300 ms$/,
  );
  conns.forEach((conn) => conn.close());
  reconnector.close("done");
  listener.close();
  await forwarding;
});

Deno.test("forwardUdp() drops datagrams between sessions, saying so once, and the flow goes on after", async () => {
  const server = flakyServer("udp://127.0.0.1:53");
  const { reconnector } = await reconnecting(server, 5_000);
  const log = recordingLog();
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const forwarding = forwardUdp(reconnector, socket, log);
  const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to = socket.addr as Deno.NetAddr;
  const roundTrip = async (text: string) => {
    await peer.send(new TextEncoder().encode(text), to);
    const [reply] = await peer.receive();
    return new TextDecoder().decode(reply);
  };

  assert.equal(await roundTrip("one"), "one");
  server.kill();
  await sleep(20);
  for (let i = 0; i < 5; i++) await peer.send(Uint8Array.of(i), to);
  await sleep(100);
  assert.equal(log.warnings.length, 1, log.warnings.join("\n"));
  assert.match(log.warnings[0], /^UDP datagram from 127\.0\.0\.1:\d+ dropped: no session/);
  server.state.up = true;
  while (reconnector.state !== "connected") await sleep(10);
  assert.equal(await roundTrip("two"), "two");

  reconnector.close("done");
  socket.close();
  const totals = await forwarding;
  assert.equal(totals.sent, 6);
  assert.equal(totals.received, 6);
  peer.close();
  // The held count is summarised when the relay ends.
  assert.match(log.warnings.at(-1)!, /\(4 more like it in the last 10 s\)$/);
});
