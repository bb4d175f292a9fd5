// The idle timeout each side offers, through a UDP forwarder that can go dark
// (a relay outage, as QUIC sees it): a connection takes the lower offer.
import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import type { PeerConnection } from "./connection.ts";
import {
  dialQuic,
  IDLE_TIMEOUT_MS,
  KEEP_ALIVE_MS,
  listenQuic,
  RELAYED_IDLE_TIMEOUT_MS,
} from "./quic.ts";

const ALPN = "quic-idle-test/1";
const LOOPBACK = "127.0.0.1";

/** Forwards UDP between one client and `target`, or drops everything while `dark`. */
function forwarder(target: number) {
  const front = Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 });
  const back = Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 });
  const to: Deno.NetAddr = { transport: "udp", hostname: LOOPBACK, port: target };
  let client: Deno.NetAddr | undefined;
  const state = { dark: false };
  (async () => {
    try {
      for (;;) {
        const [data, from] = await front.receive();
        client = from as Deno.NetAddr;
        if (!state.dark) await back.send(data, to);
      }
    } catch { /* closed */ }
  })();
  (async () => {
    try {
      for (;;) {
        const [data] = await back.receive();
        if (!state.dark && client) await front.send(data, client);
      }
    } catch { /* closed */ }
  })();
  return {
    port: (front.addr as Deno.NetAddr).port,
    state,
    close() {
      front.close();
      back.close();
    },
  };
}

/** A connection through a forwarder, each side offering its idle timeout. */
async function pair(serverIdleMs: number, clientIdleMs: number) {
  const key = SecretKey.generate();
  const listener = listenQuic({
    hostname: LOOPBACK,
    secretKey: key,
    alpn: ALPN,
    idleTimeoutMs: serverIdleMs,
  });
  const relay = forwarder(listener.addr.port);
  const client = await dialQuic({
    addrs: [{ hostname: LOOPBACK, port: relay.port }],
    endpointId: key.endpointId,
    alpn: ALPN,
    idleTimeoutMs: clientIdleMs,
  });
  const server = (await listener.accept())!;
  return {
    client,
    server,
    relay,
    close() {
      client.close();
      listener.close();
      relay.close();
    },
  };
}

/** Resolves with how long `conn` took to close, or `undefined` if it outlived `ms`. */
async function closesWithin(conn: PeerConnection, ms: number): Promise<number | undefined> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    conn.closed.then(() => performance.now() - start),
    new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms)),
  ]);
  clearTimeout(timer);
  return outcome;
}

async function roundTrip(from: PeerConnection, to: PeerConnection): Promise<string> {
  const stream = await from.openStream();
  const writer = stream.writable.getWriter();
  await writer.write(new TextEncoder().encode("after"));
  await writer.close();
  const incoming = (await to.acceptStream())!;
  let text = "";
  for await (const chunk of incoming.readable) text += new TextDecoder().decode(chunk);
  return text;
}

Deno.test("QUIC idle timeout: the lower offer wins; both offering the relayed one outlive 6 s of silence", async () => {
  const clientLower = await pair(RELAYED_IDLE_TIMEOUT_MS, 2_000);
  const serverLower = await pair(2_000, RELAYED_IDLE_TIMEOUT_MS);
  const relayed = await pair(RELAYED_IDLE_TIMEOUT_MS, RELAYED_IDLE_TIMEOUT_MS);
  try {
    for (const p of [clientLower, serverLower, relayed]) p.relay.state.dark = true;
    const silenceMs = IDLE_TIMEOUT_MS + 1_000;
    const [a, b, c] = await Promise.all([
      closesWithin(clientLower.server, silenceMs),
      closesWithin(serverLower.client, silenceMs),
      closesWithin(relayed.client, silenceMs),
    ]);
    // The side offering more closes with the lower timeout all the same.
    assert.ok(
      a !== undefined && a >= 1_500 && a < 4_000,
      `server of the client offering 2 s: ${a}`,
    );
    assert.ok(
      b !== undefined && b >= 1_500 && b < 4_000,
      `client of the server offering 2 s: ${b}`,
    );
    // Past the default 6 s of silence, the relayed connection is still there, and carries again.
    assert.equal(c, undefined);
    relayed.relay.state.dark = false;
    assert.equal(await roundTrip(relayed.client, relayed.server), "after");
  } finally {
    clientLower.close();
    serverLower.close();
    relayed.close();
  }
});

Deno.test("QUIC idle timeout: one not above the keep-alive interval is refused, naming both", async () => {
  const key = SecretKey.generate();
  assert.throws(
    () => listenQuic({ hostname: LOOPBACK, secretKey: key, alpn: ALPN, idleTimeoutMs: 1_000 }),
    new RangeError(
      `QUIC idle timeout 1000 ms must exceed the keep-alive interval (${KEEP_ALIVE_MS} ms)`,
    ),
  );
  await assert.rejects(
    dialQuic({
      addrs: [{ hostname: LOOPBACK, port: 9 }],
      endpointId: key.endpointId,
      alpn: ALPN,
      idleTimeoutMs: KEEP_ALIVE_MS,
    }),
    RangeError,
  );
});
