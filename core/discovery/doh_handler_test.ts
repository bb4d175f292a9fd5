import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import {
  decodeDnsPacket,
  decodeTxtData,
  DNS_CLASS_IN,
  DNS_TYPE_TXT,
  encodeDnsMessage,
  MAX_DNS_PACKET_SIZE,
} from "./dns_packet.ts";
import { createDohHandler, type DohOptions } from "./doh_handler.ts";
import { signRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

const key = SecretKey.generate();
const z32 = endpointIdToZ32(key.endpointId);
const store = new Map([[
  z32,
  signRecord(key, { relayUrls: ["https://relay.example/"], addrs: [], timestampMicros: 1n }),
]]);
const URL_BASE = "http://relay.test/dns-query";

const handler = (options: Partial<DohOptions> = {}) =>
  createDohHandler({ origin: "dns.example", lookup: (k) => store.get(k), ...options });

const queryFor = (name: string) =>
  encodeDnsMessage({
    id: 0,
    flags: 0x0100,
    questions: [{ name, type: DNS_TYPE_TXT, class: DNS_CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  }, 512);

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function statusAndText(response: Response) {
  return [response.status, await response.text()] as const;
}

Deno.test("DoH: GET ?dns= and POST application/dns-message answer as the UDP face", async () => {
  const doh = handler();
  const query = queryFor(`_iroh.${z32}.dns.example`);
  const viaGet = await doh(new Request(`${URL_BASE}?dns=${base64url(query)}`));
  const viaPost = await doh(
    new Request(URL_BASE, {
      method: "POST",
      body: query,
      headers: { "content-type": "application/dns-message" },
    }),
  );
  for (const response of [viaGet, viaPost]) {
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/dns-message");
    assert.equal(response.headers.get("cache-control"), "max-age=30");
    const message = decodeDnsPacket(new Uint8Array(await response.arrayBuffer()));
    assert.deepEqual(message.answers.map((a) => decodeTxtData(a.data).join("")), [
      "relay=https://relay.example/",
    ]);
  }
  const missing = await doh(
    new Request(`${URL_BASE}?dns=${base64url(queryFor("_iroh.x.dns.example"))}`),
  );
  assert.equal(missing.status, 200);
  assert.equal(missing.headers.get("cache-control"), null);
  assert.equal(decodeDnsPacket(new Uint8Array(await missing.arrayBuffer())).flags & 0xf, 3);
});

Deno.test("DoH: refuses malformed, oversized, mistyped and excess requests with one line", async () => {
  const doh = handler({ rates: { burst: 100, perSecond: 1 } });
  const cases: [Request, number, RegExp][] = [
    [new Request(URL_BASE), 400, /Missing the dns parameter/],
    [new Request(`${URL_BASE}?dns=AAA=`), 400, /not unpadded base64url/],
    [new Request(`${URL_BASE}?dns=A`), 400, /not unpadded base64url/],
    [new Request(`${URL_BASE}?dns=${"A".repeat(2_000)}`), 413, /exceeds the limit of 1000/],
    [
      new Request(`${URL_BASE}?dns=${base64url(new Uint8Array(MAX_DNS_PACKET_SIZE + 1))}`),
      413,
      /limit/,
    ],
    [new Request(`${URL_BASE}?dns=AAAA`), 400, /Not a DNS query/],
    [new Request(URL_BASE, { method: "PUT", body: "x" }), 405, /Method PUT not allowed/],
    [
      new Request(URL_BASE, {
        method: "POST",
        body: "x",
        headers: { "content-type": "text/plain" },
      }),
      415,
      /carries application\/dns-message/,
    ],
    [
      new Request(URL_BASE, {
        method: "POST",
        body: new Uint8Array(MAX_DNS_PACKET_SIZE + 1),
        headers: { "content-type": "application/dns-message" },
      }),
      413,
      /exceeds the limit/,
    ],
  ];
  for (const [request, status, message] of cases) {
    const [got, text] = await statusAndText(await doh(request));
    assert.equal(got, status, `${request.method} ${request.url}: ${text}`);
    assert.match(text, message);
  }
  // A streamed body with no length that runs past the limit: cut off, not buffered.
  const endless = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.enqueue(new Uint8Array(4_096)),
  });
  const [status] = await statusAndText(
    await doh(
      new Request(URL_BASE, {
        method: "POST",
        body: endless,
        headers: { "content-type": "application/dns-message" },
      }),
    ),
  );
  assert.equal(status, 413);
});

Deno.test("DoH: a source past its rate gets 429; another source is not held back", async () => {
  const clock = { ms: 0 };
  const doh = handler({ rates: { burst: 2, perSecond: 1 }, now: () => clock.ms });
  const get = (from: string) =>
    doh(new Request(`${URL_BASE}?dns=${base64url(queryFor("dns.example"))}`), {
      remoteAddr: { hostname: from },
    });
  const status = async (from: string) => (await statusAndText(await get(from)))[0];
  assert.deepEqual([await status("192.0.2.1"), await status("192.0.2.1")], [200, 200]);
  assert.equal(await status("192.0.2.1"), 429);
  assert.equal(await status("198.51.100.1"), 200);
  clock.ms += 1_000;
  assert.equal(await status("192.0.2.1"), 200);
});
