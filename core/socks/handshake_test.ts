import assert from "node:assert/strict";
import {
  describeReplyCode,
  encodeConnectRequest,
  encodeUsernamePassword,
  MAX_SOCKS5_REPLY_BYTES,
  Socks5ClientHandshake,
  Socks5Error,
  type Socks5Step,
} from "./mod.ts";

const bytes = (...b: number[]) => Uint8Array.of(...b);
const ascii = (s: string) => [...new TextEncoder().encode(s)];

/** Feeds `answer` in pieces of `chunk` bytes, never more than wanted. */
function feed(handshake: Socks5ClientHandshake, answer: Uint8Array, chunk = 1): Socks5Step[] {
  const steps: Socks5Step[] = [];
  let offset = 0;
  while (offset < answer.length) {
    const take = Math.min(chunk, handshake.wanted, answer.length - offset);
    steps.push(handshake.receive(answer.subarray(offset, offset + take)));
    offset += take;
  }
  return steps;
}

Deno.test("a domain name goes to the proxy as a name (ATYP 3), never resolved", () => {
  assert.deepEqual(
    encodeConnectRequest({ hostname: "abc.onion", port: 80 }),
    bytes(5, 1, 0, 3, 9, ...ascii("abc.onion"), 0, 80),
  );
  // Even "localhost" is a name for the proxy to resolve.
  assert.deepEqual(
    encodeConnectRequest({ hostname: "localhost", port: 443 }),
    bytes(5, 1, 0, 3, 9, ...ascii("localhost"), 1, 187),
  );
});

Deno.test("IP literals go as addresses: IPv4 (ATYP 1), IPv6 with or without brackets (ATYP 4)", () => {
  assert.deepEqual(
    encodeConnectRequest({ hostname: "192.0.2.7", port: 65535 }),
    bytes(5, 1, 0, 1, 192, 0, 2, 7, 255, 255),
  );
  const v6 = bytes(5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1, 0x1f, 0x90);
  assert.deepEqual(encodeConnectRequest({ hostname: "2001:db8::1", port: 8080 }), v6);
  assert.deepEqual(encodeConnectRequest({ hostname: "[2001:db8::1]", port: 8080 }), v6);
});

Deno.test("destinations SOCKS5 cannot carry are refused with one line", () => {
  const refused = [
    { hostname: "", port: 80 },
    { hostname: "a b.onion", port: 80 },
    { hostname: "evil\r\n.onion", port: 80 },
    { hostname: "a..b", port: 80 },
    { hostname: "user@host", port: 80 },
    { hostname: "[example.com]", port: 80 },
    { hostname: `${"a".repeat(63)}.`.repeat(4) + "abcd", port: 80 }, // 260 bytes
    { hostname: "host", port: 0 },
    { hostname: "host", port: 65536 },
    { hostname: "host", port: 1.5 },
  ];
  for (const target of refused) {
    assert.throws(() => encodeConnectRequest(target), (e: Error) => {
      assert.ok(e instanceof TypeError, `${JSON.stringify(target)}: ${e}`);
      assert.doesNotMatch(e.message, /[\r\n]/);
      return true;
    });
  }
  // 255 bytes is the most a name may have.
  const longest = `${"a".repeat(63)}.`.repeat(3) + "a".repeat(63);
  assert.equal(longest.length, 255);
  assert.equal(encodeConnectRequest({ hostname: longest, port: 1 })[4], 255);
});

Deno.test("RFC 1929: version 1, each field behind its length; 1-255 bytes each", () => {
  assert.deepEqual(
    encodeUsernamePassword({ username: "iso-1", password: "x" }),
    bytes(1, 5, ...ascii("iso-1"), 1, ...ascii("x")),
  );
  const max = "p".repeat(255);
  assert.equal(encodeUsernamePassword({ username: max, password: max }).length, 3 + 510);
  for (const [username, password] of [["", "x"], ["x", ""], ["é".repeat(128), "x"]]) {
    assert.throws(() => encodeUsernamePassword({ username, password }), TypeError);
  }
});

Deno.test("no authentication: greeting, CONNECT, a reply with an IPv4 bound address", () => {
  const handshake = new Socks5ClientHandshake({ hostname: "relay.onion", port: 80 });
  assert.deepEqual(handshake.start(), bytes(5, 1, 0));
  assert.equal(handshake.wanted, 2);
  const step = handshake.receive(bytes(5, 0));
  assert.equal(step.kind, "write");
  assert.deepEqual(
    (step as { bytes: Uint8Array }).bytes,
    encodeConnectRequest({ hostname: "relay.onion", port: 80 }),
  );
  assert.ok(handshake.connecting);
  const steps = feed(handshake, bytes(5, 0, 0, 1, 127, 0, 0, 1, 0x23, 0x82), 3);
  assert.deepEqual(steps.at(-1), {
    kind: "connected",
    bound: { hostname: "127.0.0.1", port: 9090 },
  });
  assert.ok(handshake.done);
  assert.equal(handshake.wanted, 0);
});

Deno.test("username/password: offered alone, sent after the proxy picks it", () => {
  const handshake = new Socks5ClientHandshake(
    { hostname: "10.0.0.1", port: 22 },
    { username: "stream-1", password: "p" },
  );
  assert.deepEqual(handshake.start(), bytes(5, 1, 2));
  const auth = handshake.receive(bytes(5, 2));
  assert.deepEqual(auth, {
    kind: "write",
    bytes: encodeUsernamePassword({ username: "stream-1", password: "p" }),
  });
  assert.ok(!handshake.connecting);
  const request = handshake.receive(bytes(1, 0));
  assert.deepEqual(request, {
    kind: "write",
    bytes: encodeConnectRequest({ hostname: "10.0.0.1", port: 22 }),
  });
  // A bound address given as a name, and one as IPv6.
  const named = feed(handshake, bytes(5, 0, 0, 3, 4, ...ascii("host"), 0, 1), 100);
  assert.deepEqual(named.at(-1), { kind: "connected", bound: { hostname: "host", port: 1 } });
  const v6 = new Socks5ClientHandshake({ hostname: "x", port: 1 });
  v6.start();
  v6.receive(bytes(5, 0));
  const steps = feed(v6, bytes(5, 0, 0, 4, ...Array(15).fill(0), 1, 0, 0), 7);
  assert.deepEqual(steps.at(-1), { kind: "connected", bound: { hostname: "::1", port: 0 } });
});

Deno.test("the handshake asks for exactly what the proxy owes, so it never reads past it", () => {
  const handshake = new Socks5ClientHandshake({ hostname: "x", port: 1 });
  handshake.start();
  handshake.receive(bytes(5, 0));
  // Version and code first (a refusing proxy may close after them), then up to a name's
  // length, then the rest.
  assert.equal(handshake.wanted, 2);
  handshake.receive(bytes(5, 0));
  assert.equal(handshake.wanted, 3);
  handshake.receive(bytes(0, 3, 200));
  assert.equal(handshake.wanted, 200 + 2);
  assert.throws(() => handshake.receive(new Uint8Array(203)), RangeError);
  assert.equal(4 + 1 + 255 + 2, MAX_SOCKS5_REPLY_BYTES);
});

/** The error `answer` (after the greeting) makes, or undefined when it connects. */
function errorFor(
  methodChoice: Uint8Array,
  rest: Uint8Array = new Uint8Array(),
  credentials?: { username: string; password: string },
): Socks5Error {
  const handshake = new Socks5ClientHandshake({ hostname: "abc.onion", port: 80 }, credentials);
  handshake.start();
  try {
    feed(handshake, methodChoice);
    feed(handshake, rest, 64);
  } catch (error) {
    assert.ok(error instanceof Socks5Error, String(error));
    assert.doesNotMatch(error.message, /[\r\n]/);
    return error;
  }
  throw new Error("no error");
}

Deno.test("proxy answers outside the protocol: one line each, with the kind of failure", () => {
  const http = errorFor(bytes(0x48, 0x54));
  assert.equal(http.kind, "protocol");
  assert.match(http.message, /does not speak SOCKS5: .*0x48 0x54/);
  assert.equal(errorFor(bytes(5, 0xff)).kind, "auth");
  assert.match(errorFor(bytes(5, 0xff)).message, /none of the offered .*\(no authentication\)/);
  const credentials = { username: "u", password: "p" };
  assert.match(
    errorFor(bytes(5, 0), undefined, credentials).message,
    /chose authentication method 0x00, which was not offered \(username\/password\)/,
  );
  assert.match(errorFor(bytes(5, 2)).message, /method 0x02, which was not offered/);
  const rejected = errorFor(bytes(5, 2), bytes(1, 1), credentials);
  assert.equal(rejected.kind, "auth");
  assert.match(rejected.message, /rejected the username and password/);
  assert.match(
    errorFor(bytes(5, 2), bytes(5, 0), credentials).message,
    /version 0x05 \(not 0x01\)/,
  );
  assert.match(errorFor(bytes(5, 0), bytes(4, 0)).message, /CONNECT with version 0x04/);
  assert.match(errorFor(bytes(5, 0), bytes(5, 0, 1, 1, 0)).message, /reserved byte/);
  assert.match(errorFor(bytes(5, 0), bytes(5, 0, 0, 9, 0)).message, /address type 0x09/);
  assert.match(errorFor(bytes(5, 0), bytes(5, 0, 0, 3, 0)).message, /empty host/);
  assert.match(
    errorFor(bytes(5, 0), bytes(5, 0, 0, 3, 2, 0x0d, 0x0a, 0, 1)).message,
    /not a name/,
  );
});

Deno.test("reply codes: the proxy refused, in words that say what to do", () => {
  const refused = errorFor(bytes(5, 0), bytes(5, 4));
  assert.equal(refused.kind, "refused");
  assert.equal(refused.replyCode, 4);
  assert.match(refused.message, /^the proxy refused: host unreachable \(0x04\); check/);
  assert.match(errorFor(bytes(5, 0), bytes(5, 5)).message, /connection refused \(0x05\)/);
  assert.match(errorFor(bytes(5, 0), bytes(5, 8)).message, /address type not supported/);
  assert.match(
    errorFor(bytes(5, 0), bytes(5, 0xf0)).message,
    /onion service descriptor not found \(0xF0\)/,
  );
  assert.match(errorFor(bytes(5, 0), bytes(5, 0xf6)).message, /invalid onion address \(0xF6\)/);
  for (const code of [1, 2, 3, 4, 5, 6, 7, 8, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7]) {
    const words = describeReplyCode(code);
    assert.match(
      words,
      new RegExp(`\\(0x${code.toString(16).toUpperCase().padStart(2, "0")}\\); `),
    );
  }
  assert.equal(describeReplyCode(0x42), "unknown reply code (0x42)");
});

Deno.test("fuzz: random and mutated answers end in a connect or a Socks5Error, within bounds", () => {
  const good = [
    bytes(5, 0),
    bytes(5, 0, 0, 1, 127, 0, 0, 1, 0, 80),
  ];
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const mutate = (b: Uint8Array) => {
    const out = b.slice();
    out[Math.floor(Math.random() * out.length)] = Math.floor(Math.random() * 256);
    return out;
  };
  let connected = 0;
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    const credentials = i % 3 === 0 ? { username: "u", password: "p" } : undefined;
    const handshake = new Socks5ClientHandshake({ hostname: "abc.onion", port: 80 }, credentials);
    handshake.start();
    const answer = i % 2 === 0
      ? Uint8Array.from([
        ...mutate(good[0]),
        ...(credentials ? bytes(1, 0) : []),
        ...mutate(good[1]),
        ...random(i % 300),
      ])
      : random(i % 400);
    let consumed = 0;
    try {
      while (!handshake.done && consumed < answer.length) {
        const take = Math.min(1 + (i % 17), handshake.wanted, answer.length - consumed);
        handshake.receive(answer.subarray(consumed, consumed + take));
        consumed += take;
      }
      if (handshake.done) connected++;
    } catch (error) {
      if (!(error instanceof Socks5Error)) throw error;
      assert.doesNotMatch(error.message, /[\r\n]/);
      refused++;
    }
    // Never more than the three messages a proxy may send: method, auth, reply.
    assert.ok(consumed <= 2 + 2 + MAX_SOCKS5_REPLY_BYTES, `consumed ${consumed}`);
  }
  assert.ok(connected > 0 && refused > 0, `${connected} connected, ${refused} refused`);
});
