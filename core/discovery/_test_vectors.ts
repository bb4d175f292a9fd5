/**
 * Byte vectors shared by this folder's tests.
 * @module
 */
import { DNS_CLASS_IN, DNS_TYPE_TXT, type DnsRecord, encodeTxtData } from "./dns_packet.ts";

/** iroh's test secret key (iroh-dns/src/endpoint_info.rs), RFC 4648 base32 of the seed. */
export const IROH_SECRET = "vpnk377obfvzlipnsfbqba7ywkkenc4xlpmovt5tsfujoa75zqia";

/** Concatenates hex (`"c00c"`) and text (`'"_iroh'`, a leading quote) parts. */
export function bytesOf(...parts: string[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (part.startsWith('"')) out.push(...new TextEncoder().encode(part.slice(1)));
    else out.push(...part.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
  }
  return Uint8Array.from(out);
}

// The z32 key of iroh's test secret "vpnk377obfvzlipnsfbqba7ywkkenc4xlpmovt5tsfujoa75zqia"
// (iroh-dns/src/endpoint_info.rs); signed_packet_test.ts checks the derivation.
export const IROH_Z32 = "8u3iu714hhn6sjh4k7eq7tm9jmdq9ttihbg3fioqizgko9jfbhcy";
const NAME = `_iroh.${IROH_Z32}`;
/** One iroh-style TXT answer. */
export const txt = (text: string): DnsRecord => ({
  name: NAME,
  type: DNS_TYPE_TXT,
  class: DNS_CLASS_IN,
  ttl: 30,
  data: encodeTxtData([text]),
});
/** iroh's test attributes, in the order iroh writes them (relay, addr, user-data). */
export const IROH_RECORDS = [
  txt("relay=https://example.com/"),
  txt("addr=127.0.0.1:1234"),
  txt("user-data=foobar"),
];
/**
 * What iroh writes for its signed_packet_roundtrip test data, derived by hand from
 * iroh-dns/src/pkarr.rs (`Packet::new_reply(0)`, one TXT answer per attribute under
 * `_iroh.<z32>`, TTL 30, compressed) and simple-dns's writer (header id 0, flags QR
 * only; a name suffix written once, then pointed to: the owner name sits at
 * offset 12, so later answers start with c00c). Checked once against the real
 * thing: simple-dns 0.11.2 (iroh pins 0.12.0), built from source with
 * `Packet::new_reply(0)`, three `TXT::add_string` answers and
 * `build_bytes_vec_compressed()`, printed exactly these bytes; so did it for the
 * a.zone/b.zone/zone compression case in dns_packet_test.ts.
 */
export const IROH_PACKET = bytesOf(
  "0000 8000 0000 0003 0000 0000", // id 0, QR, 3 answers
  "05",
  '"_iroh',
  "34",
  `"${IROH_Z32}`,
  "00",
  "0010 0001 0000001e 001b 1a", // TXT IN TTL 30, RDATA 27 bytes, string of 26
  '"relay=https://example.com/',
  "c00c 0010 0001 0000001e 0014 13",
  '"addr=127.0.0.1:1234',
  "c00c 0010 0001 0000001e 0011 10",
  '"user-data=foobar',
);
