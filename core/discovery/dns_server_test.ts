import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { resolveRecordByDns } from "./dns_client.ts";
import { decodeDnsPacket, DNS_CLASS_IN, DNS_TYPE_TXT, encodeDnsMessage } from "./dns_packet.ts";
import { type DnsServerOptions, serveDns } from "./dns_server.ts";
import { answerDnsQuery } from "./dns_responder.ts";
import { signRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

const key = SecretKey.generate();
const body = signRecord(key, {
  relayUrls: ["https://relay.example/"],
  addrs: [],
  timestampMicros: 1n,
});
const store = new Map([[endpointIdToZ32(key.endpointId), body]]);

async function withServer(
  limits: DnsServerOptions["limits"],
  run: (port: number) => Promise<void>,
): Promise<void> {
  const server = serveDns({
    hostname: "127.0.0.1",
    port: 0,
    origin: "dns.example",
    lookup: (k) => store.get(k),
    limits,
  });
  try {
    await run(server.port);
  } finally {
    await server.close();
  }
}

const query = encodeDnsMessage({
  id: 9,
  flags: 0,
  questions: [{ name: "dns.example", type: DNS_TYPE_TXT, class: DNS_CLASS_IN }],
  answers: [],
  authorities: [],
  additionals: [],
}, 512);

/** Whether the connection was closed by the server within `ms`. */
async function closedWithin(conn: Deno.Conn, ms: number): Promise<boolean> {
  const timer = setTimeout(() => conn.close(), ms);
  try {
    return await conn.read(new Uint8Array(64)) === null;
  } catch {
    return false; // closed by the timer: still open when it fired
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("serveDns() answers over UDP and TCP on one port, and the client resolves through it", async () => {
  await withServer({}, async (port) => {
    const found = await resolveRecordByDns(key.endpointId, {
      server: `dns://127.0.0.1:${port}/dns.example`,
      timeoutMs: 2_000,
    });
    assert.deepEqual(found?.relayUrls, ["https://relay.example/"]);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      // Two queries on one connection, written at once.
      const framed = new Uint8Array([0, query.length, ...query, 0, query.length, ...query]);
      await conn.write(framed);
      const buffer = new Uint8Array(1024);
      let got = 0;
      const replies: number[] = [];
      while (replies.length < 2) {
        const read = await conn.read(buffer.subarray(got));
        assert.ok(read !== null);
        got += read;
        while (got >= 2 && got >= 2 + ((buffer[0] << 8) | buffer[1])) {
          const length = (buffer[0] << 8) | buffer[1];
          replies.push(decodeDnsPacket(buffer.slice(2, 2 + length)).id);
          buffer.copyWithin(0, 2 + length, got);
          got -= 2 + length;
        }
      }
      assert.deepEqual(replies, [9, 9]);
    } finally {
      conn.close();
    }
  });
});

Deno.test("serveDns() stops answering a source past its query rate", async () => {
  await withServer({ queryBurst: 3, queriesPerSecond: 0.001 }, async (port) => {
    const server = `dns://127.0.0.1:${port}/dns.example`;
    for (let i = 0; i < 3; i++) {
      assert.ok(await resolveRecordByDns(key.endpointId, { server, timeoutMs: 2_000 }));
    }
    await assert.rejects(
      resolveRecordByDns(key.endpointId, { server, timeoutMs: 300 }),
      /no answer within 0.3 s/,
    );
    // Over TCP the same bucket: the connection is closed without an answer.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new Uint8Array([0, query.length, ...query]));
    assert.ok(await closedWithin(conn, 2_000));
  });
});

Deno.test("serveDns() bounds TCP: connections at once, time open, message size", async () => {
  await withServer({ maxTcpConnections: 2, tcpDeadlineMs: 300 }, async (port) => {
    const connect = () => Deno.connect({ hostname: "127.0.0.1", port });
    const [a, b] = [await connect(), await connect()];
    // Let the server take both before the third comes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const third = await connect();
    assert.ok(await closedWithin(third, 200), "third connection closed at once");
    const started = performance.now();
    assert.ok(await closedWithin(a, 2_000), "idle connection closed at the deadline");
    assert.ok(await closedWithin(b, 2_000));
    const waited = performance.now() - started;
    assert.ok(waited > 150 && waited < 1_500, `closed after ${waited} ms`);
    // A declared length over the limit ends the connection.
    const big = await connect();
    await big.write(new Uint8Array([0x10, 0x00]));
    assert.ok(await closedWithin(big, 200));
    // A slow writer cannot hold a connection past the deadline either.
    const slow = await connect();
    await slow.write(new Uint8Array([0, query.length, ...query.subarray(0, 5)]));
    assert.ok(await closedWithin(slow, 2_000));
  });
});

Deno.test("serveDns() refuses a port in use, naming no other", () => {
  const taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    assert.throws(
      () => serveDns({ hostname: "127.0.0.1", port, origin: "x.example", lookup: () => undefined }),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
  }
});

Deno.test("resolveRecordByDns() over real UDP takes only the server's datagram, not a stray's", async () => {
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const stray = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const port = (server.addr as Deno.NetAddr).port;
    const resolving = resolveRecordByDns(key.endpointId, {
      server: `dns://127.0.0.1:${port}/dns.example`,
      timeoutMs: 3_000,
    });
    const [query, from] = await server.receive();
    const answer = (records: Map<string, Uint8Array>) =>
      answerDnsQuery(query, "udp", { origin: "dns.example", lookup: (k) => records.get(k) })!;
    // Same id and question, from another port: a spoof, and it says "no record".
    await stray.send(answer(new Map()), from);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.send(answer(store), from);
    assert.deepEqual((await resolving)?.relayUrls, ["https://relay.example/"]);
  } finally {
    server.close();
    stray.close();
  }
});
