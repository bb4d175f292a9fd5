// Puts and gets pkarr records in the bed's private DHT with code independent of ours:
// npm bittorrent-dht 11.0.12 for the DHT, npm pkarr 1.3.0's SignedPacket (libsodium via
// sodium-native, DNS via dns-packet) for signing, verifying and decoding.
//
//   _dht_tool.ts get BOOTSTRAP Z32_KEY
//   _dht_tool.ts put BOOTSTRAP SEED_HEX SEQ [TXT...]       signs with pkarr (libsodium)
//   _dht_tool.ts put-signed BOOTSTRAP Z32_KEY BODY_HEX      puts a body signed elsewhere
//
// BOOTSTRAP is a comma-separated list of IPv4:PORT, the only nodes contacted first.
// TXT is one `_iroh` TXT string each (`relay=URL`, `addr=IP:PORT`). BODY_HEX is a pkarr
// relay body: sig(64) | seq(u64 BE) | DNS packet. Prints one JSON line:
//   get: {"found":true,"publicKey","seq","txt":[{name,text}],"relayUrls","addrs","body",
//        "sentTo"} (body: hex of sig | seq | DNS packet)
//        or {"found":false,"sentTo"}
//   put: {"publicKey","seq","acks","sentTo"}  (acks: nodes that answered the put)
// Bad input or a failed operation: one line on stderr, exit 1 (2 for usage).
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import DHT from "bittorrent-dht";
import { generateKeyPair, SignedPacket, z32 } from "pkarr";
import { verify } from "pkarr/lib/tools.js";
import { type HostPort, parseHostPort, recordingSocket } from "./_dht_socket.ts";

/**
 * Longest the tool runs (default 15 s; bittorrent-dht's own query timeout is 2 s per
 * node); DHT_TOOL_DEADLINE_MS lowers it for the test of this bound.
 */
const DEADLINE_MS = Number(Deno.env.get("DHT_TOOL_DEADLINE_MS") ?? 15_000);
const IROH_LABEL = "_iroh";

interface MutableItem {
  k: Buffer;
  v: Buffer;
  sig: Buffer;
  seq: number;
}
interface BittorrentDht {
  get(
    key: Buffer,
    options: { verify: typeof verify },
    callback: (error: Error | null, item: MutableItem | null) => void,
  ): void;
  put(
    item: MutableItem,
    callback: (error: Error | null, hash: Buffer, acks: number) => void,
  ): void;
  destroy(callback: () => void): void;
}

function fail(message: string, code = 1): never {
  console.error(`_dht_tool: ${message}`);
  Deno.exit(code);
}

function hexBytes(text: string, what: string, length?: number): Buffer {
  if (!/^([0-9a-fA-F]{2})*$/.test(text) || (length !== undefined && text.length !== 2 * length)) {
    fail(`${what} is not ${length === undefined ? "" : `${length} bytes of `}hex`);
  }
  return Buffer.from(text, "hex");
}

function publicKeyOf(text: string): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = z32.decode(text);
  } catch {
    fail(`public key ${JSON.stringify(text)} is not z-base-32`);
  }
  if (bytes.length !== 32) fail(`public key ${JSON.stringify(text)} is not 32 bytes`);
  return Buffer.from(bytes);
}

function seqOf(text: string): number {
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    fail(`seq ${JSON.stringify(text)} is not an integer below 2^53`);
  }
  return Number(text);
}

// dns-packet's answer, as far as this tool reads it (pkarr's typings leave it untyped).
interface Answer {
  name: string;
  type: string;
  data: unknown;
}

/** The TXT strings of a verified packet, and the `_iroh` relay/addr values among them. */
function describe(packet: SignedPacket) {
  const txt = (packet.packet().answers as Answer[])
    .filter((answer) => answer.type === "TXT")
    .map((answer) => ({
      name: answer.name,
      text: ([] as (string | Uint8Array)[]).concat(answer.data as string | Uint8Array[])
        .map((part) => typeof part === "string" ? part : Buffer.from(part).toString("utf8"))
        .join(""),
    }));
  const iroh = txt.filter((t) => t.name === `${IROH_LABEL}.${z32.encode(packet.publicKey())}`);
  const values = (key: string) =>
    iroh.filter((t) => t.text.startsWith(`${key}=`)).map((t) => t.text.slice(key.length + 1));
  return { txt, relayUrls: values("relay"), addrs: values("addr") };
}

const [command, bootstrapList, ...rest] = Deno.args;
const usage = "usage: _dht_tool.ts get|put|put-signed BOOTSTRAP ...";
if (!["get", "put", "put-signed"].includes(command) || bootstrapList === undefined) fail(usage, 2);
let bootstrap: HostPort[];
try {
  bootstrap = bootstrapList.split(",").map(parseHostPort);
} catch (error) {
  fail((error as Error).message);
}

// Everything the command needs is checked before the DHT starts.
let item: MutableItem | undefined;
let key: Buffer;
if (command === "get") {
  if (rest.length !== 1) fail("usage: _dht_tool.ts get BOOTSTRAP Z32_KEY", 2);
  key = publicKeyOf(rest[0]);
} else if (command === "put") {
  if (rest.length < 2) fail("usage: _dht_tool.ts put BOOTSTRAP SEED_HEX SEQ [TXT...]", 2);
  const keyPair = generateKeyPair(hexBytes(rest[0], "seed", 32));
  const signed = SignedPacket.fromPacket(keyPair, {
    id: 0,
    type: "response",
    flags: 0,
    answers: rest.slice(2).map((text) => ({
      name: IROH_LABEL,
      type: "TXT" as const,
      class: "IN" as const,
      ttl: 30,
      data: [text],
    })),
    // pkarr's typings say object; its code reads a number of microseconds.
  }, { timestamp: seqOf(rest[1]) as unknown as object });
  item = signed.bep44Args() as MutableItem;
  key = Buffer.from(keyPair.publicKey);
} else {
  if (rest.length !== 2) fail("usage: _dht_tool.ts put-signed BOOTSTRAP Z32_KEY BODY_HEX", 2);
  key = publicKeyOf(rest[0]);
  const body = hexBytes(rest[1], "body");
  if (body.length < 72) fail(`body of ${body.length} bytes is shorter than sig + seq`);
  const seq = body.readBigUInt64BE(64);
  if (seq >= 1n << 53n) fail(`seq ${seq} does not fit bittorrent-dht's numbers (2^53)`);
  item = { k: key, seq: Number(seq), sig: body.subarray(0, 64), v: body.subarray(72) };
  // pkarr checks the signature and decodes the DNS packet before anything is sent.
  try {
    SignedPacket.fromBep44Args(item);
  } catch (error) {
    fail(`body does not verify as a pkarr packet for ${rest[0]}: ${(error as Error).message}`);
  }
}

if (!(DEADLINE_MS > 0)) fail("DHT_TOOL_DEADLINE_MS is not a positive number of milliseconds");
const { socket, sentTo } = recordingSocket();
const dht = new DHT({ socket, bootstrap, verify }) as BittorrentDht;
const deadline = setTimeout(
  () => fail(`${command} did not finish within ${DEADLINE_MS} ms`),
  DEADLINE_MS,
);
const publicKey = z32.encode(key);
let result: Record<string, unknown>;
if (item) {
  const put = item;
  const acks = await new Promise<number>((resolve) => {
    try {
      dht.put(put, (error, _hash, acks) => {
        if (error) fail(`put failed: ${error.message}`);
        resolve(acks);
      });
    } catch (error) { // bittorrent-dht checks the item synchronously (v < 1000 bytes, ...)
      fail(`put refused: ${(error as Error).message}`);
    }
  });
  result = { publicKey, seq: put.seq, acks };
} else {
  const target = createHash("sha1").update(key).digest();
  const found = await new Promise<MutableItem | null>((resolve) =>
    dht.get(target, { verify }, (error, value) => {
      if (error) fail(`get failed: ${error.message}`);
      resolve(value);
    })
  );
  if (!found) {
    result = { found: false };
  } else {
    let packet: SignedPacket;
    try {
      packet = SignedPacket.fromBep44Args({ ...found, k: key });
    } catch (error) {
      fail(`the item found does not verify as a pkarr packet: ${(error as Error).message}`);
    }
    // The body as a pkarr relay would store it, for a test to check with other code.
    const body = Buffer.from(packet.bytes()).toString("hex");
    result = { found: true, publicKey, seq: found.seq, ...describe(packet), body };
  }
}
clearTimeout(deadline);
await new Promise<void>((resolve) => dht.destroy(resolve));
console.log(JSON.stringify({ ...result, sentTo: sentTo() }));
Deno.exit(0);
