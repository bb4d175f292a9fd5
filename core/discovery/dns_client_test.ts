import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { decodeDnsPacket, encodeDnsMessage } from "./dns_packet.ts";
import { type DnsExchange, parseDnsServerUrl, resolveRecordByDns } from "./dns_client.ts";
import { answerDnsQuery } from "./dns_responder.ts";
import { PkarrRelayError } from "./pkarr_client.ts";
import { signRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

const SERVER = "dns://127.0.0.1:5300/dns.example";
const key = SecretKey.generate();
const record = {
  relayUrls: ["https://relay.example/"],
  addrs: [{ hostname: "192.0.2.1", port: 4433 }],
  timestampMicros: 1n,
};
const store = new Map([[endpointIdToZ32(key.endpointId), signRecord(key, record)]]);

/** The responder as the far end, recording the transports used. */
function fakeServer(origin = "dns.example") {
  const used: string[] = [];
  const exchange: DnsExchange = (query, transport, server) => {
    used.push(`${transport} ${server.hostname}:${server.port}`);
    const answer = answerDnsQuery(query, transport, { origin, lookup: (k) => store.get(k) });
    return answer ? Promise.resolve(answer) : Promise.reject(new Error("no answer"));
  };
  return { used, exchange };
}

Deno.test("resolveRecordByDns() reads the record from _iroh.<z32>.<origin> TXT over UDP", async () => {
  const { used, exchange } = fakeServer();
  const found = await resolveRecordByDns(key.endpointId, { server: SERVER, exchange });
  assert.deepEqual(found, {
    relayUrls: record.relayUrls,
    addrs: record.addrs,
    timestampMicros: 0n,
  });
  assert.deepEqual(used, ["udp 127.0.0.1:5300"]);
  const unknown = SecretKey.generate().endpointId;
  assert.equal(await resolveRecordByDns(unknown, { server: SERVER, exchange }), undefined);
});

Deno.test("resolveRecordByDns() asks again over TCP when the UDP answer is truncated", async () => {
  const big = SecretKey.generate();
  const addrs = Array.from(
    { length: 20 },
    (_, i) => ({ hostname: `192.0.2.${i + 1}`, port: 1000 + i }),
  );
  store.set(
    endpointIdToZ32(big.endpointId),
    signRecord(big, { relayUrls: [], addrs, timestampMicros: 2n }),
  );
  // A server without EDNS0: UDP answers stop at 512 bytes, this one is ~800.
  const used: string[] = [];
  const exchange: DnsExchange = (query, transport) => {
    used.push(transport);
    const message = decodeDnsPacket(query);
    const plain = encodeDnsMessage({ ...message, additionals: [] }, 512);
    const options = { origin: "dns.example", lookup: (k: string) => store.get(k) };
    return Promise.resolve(answerDnsQuery(plain, transport, options)!);
  };
  const found = await resolveRecordByDns(big.endpointId, { server: SERVER, exchange });
  assert.equal(found?.addrs.length, 20);
  assert.deepEqual(used, ["udp", "tcp"]);
});

Deno.test("resolveRecordByDns() fails with the pkarr lookup's wording", async () => {
  const name = `_iroh.${endpointIdToZ32(key.endpointId)}.dns.example`;
  const refused = fakeServer("other.example");
  await assert.rejects(
    resolveRecordByDns(key.endpointId, { server: SERVER, exchange: refused.exchange }),
    (error: unknown) =>
      error instanceof PkarrRelayError &&
      error.message === `Cannot resolve dns://127.0.0.1:5300/${name}: the server answered REFUSED`,
  );
  // An answer with another id (a spoof, a stray) is not taken.
  const stray: DnsExchange = (query) => {
    const message = decodeDnsPacket(
      answerDnsQuery(query, "udp", {
        origin: "dns.example",
        lookup: (k) => store.get(k),
      })!,
    );
    return Promise.resolve(encodeDnsMessage({ ...message, id: (message.id + 1) & 0xffff }, 1232));
  };
  await assert.rejects(
    resolveRecordByDns(key.endpointId, { server: SERVER, exchange: stray }),
    /the answer is not for the query sent/,
  );
  const garbage: DnsExchange = () => Promise.resolve(new Uint8Array(3));
  await assert.rejects(
    resolveRecordByDns(key.endpointId, { server: SERVER, exchange: garbage }),
    /malformed answer/,
  );
  const down: DnsExchange = () => Promise.reject(new Error("Connection refused (os error 111)"));
  await assert.rejects(
    resolveRecordByDns(key.endpointId, { server: SERVER, exchange: down }),
    /: UDP: Connection refused/,
  );
});

Deno.test("resolveRecordByDns() gives up after its timeout, and rethrows the caller's abort", async () => {
  const silent: DnsExchange = (_query, _transport, _server, signal) =>
    new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  const started = performance.now();
  await assert.rejects(
    resolveRecordByDns(key.endpointId, { server: SERVER, exchange: silent, timeoutMs: 100 }),
    /no answer within 0.1 s/,
  );
  assert.ok(performance.now() - started < 2_000);
  const controller = new AbortController();
  const asked = new Error("stop");
  setTimeout(() => controller.abort(asked), 10);
  await assert.rejects(
    resolveRecordByDns(key.endpointId, {
      server: SERVER,
      exchange: silent,
      signal: controller.signal,
    }),
    (error) => error === asked,
  );
});

Deno.test("parseDnsServerUrl() reads dns://IP[:PORT]/ORIGIN and names what is wrong", () => {
  assert.deepEqual(parseDnsServerUrl("dns://127.0.0.1:5300/DNS.Example.", "--dns-server"), {
    hostname: "127.0.0.1",
    port: 5300,
    origin: "dns.example",
  });
  assert.deepEqual(parseDnsServerUrl("dns://[::1]/z.example", "--dns-server"), {
    hostname: "::1",
    port: 53,
    origin: "z.example",
  });
  for (
    const [url, why] of [
      ["dns://127.0.0.1:5300", /name the zone/],
      ["dns://127.0.0.1:5300/", /name the zone/],
      ["dns://relay.example/dns.example", /must be an IP address/],
      ["http://127.0.0.1/dns.example", /not a dns:\/\/ URL/],
      ["dns://127.0.0.1/a b", /Invalid DNS origin/],
      ["dns://127.0.0.1/dns.example?type=TXT", /only a server and an origin/],
      ["dns://u:p@127.0.0.1/dns.example", /only a server and an origin/],
    ] as const
  ) {
    assert.throws(() => parseDnsServerUrl(url, "--dns-server"), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /^Invalid --dns-server '/);
      assert.match(error.message, why);
      return true;
    });
  }
});
