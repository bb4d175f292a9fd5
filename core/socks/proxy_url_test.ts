import assert from "node:assert/strict";
import { parseSocks5ProxyUrl } from "./mod.ts";

Deno.test("socks5h://HOST:PORT: names, IPv4 and bracketed IPv6 hosts", () => {
  assert.deepEqual(parseSocks5ProxyUrl("socks5h://127.0.0.1:9050"), {
    hostname: "127.0.0.1",
    port: 9050,
  });
  assert.deepEqual(parseSocks5ProxyUrl("socks5h://[::1]:9150/"), { hostname: "::1", port: 9150 });
  assert.deepEqual(parseSocks5ProxyUrl("SOCKS5H://tor.lan:9050"), {
    hostname: "tor.lan",
    port: 9050,
  });
});

Deno.test("USER:PASSWORD@ becomes RFC 1929 credentials, percent-decoded", () => {
  assert.deepEqual(parseSocks5ProxyUrl("socks5h://iso%201:p%40ss@127.0.0.1:9050"), {
    hostname: "127.0.0.1",
    port: 9050,
    credentials: { username: "iso 1", password: "p@ss" },
  });
});

Deno.test("socks5:// is refused with the reason: local DNS would leak and cannot resolve .onion", () => {
  assert.throws(
    () => parseSocks5ProxyUrl("socks5://127.0.0.1:9050"),
    {
      name: "TypeError",
      message: "Invalid SOCKS5 proxy 'socks5://127.0.0.1:9050': use socks5h://, so the proxy " +
        "resolves names: with socks5:// they would be resolved locally, which leaks a .onion " +
        "name to the local DNS and cannot resolve it",
    },
  );
});

Deno.test("everything else that is not socks5h://HOST:PORT: one line each, no password shown", () => {
  const refused: [string, RegExp][] = [
    ["127.0.0.1:9050", /not a URL|use socks5h/],
    ["", /not a URL/],
    ["http://127.0.0.1:9050", /use socks5h:\/\/HOST:PORT$/],
    ["socks4a://127.0.0.1:9050", /use socks5h:\/\/HOST:PORT$/],
    ["socks5h://127.0.0.1", /no port .*Tor's 9050/],
    ["socks5h://:9050", /no host|not a URL/],
    ["socks5h://127.0.0.1:0", /port 0/],
    ["socks5h://127.0.0.1:65536", /not a URL/],
    ["socks5h://127.0.0.1:9050/path", /no path, query or fragment/],
    ["socks5h://127.0.0.1:9050?x=1", /no path, query or fragment/],
    ["socks5h://127.0.0.1:9050#x", /no path, query or fragment/],
    ["socks5h://user@127.0.0.1:9050", /password must be 1-255 bytes/],
    [`socks5h://${"u".repeat(256)}:p@127.0.0.1:9050`, /username must be 1-255 bytes/],
    ["socks5h://u:%zz@127.0.0.1:9050", /password is not valid percent-encoding/],
    ["socks5h://u:secret@127.0.0.1:9050/x", /no path/],
  ];
  for (const [text, words] of refused) {
    assert.throws(() => parseSocks5ProxyUrl(text), (error: Error) => {
      assert.ok(error instanceof TypeError, text);
      assert.match(error.message, /^Invalid SOCKS5 proxy '/, text);
      assert.match(error.message, words, text);
      assert.doesNotMatch(error.message, /[\r\n]|secret/, text);
      return true;
    });
  }
});
