import assert from "node:assert/strict";
import { clientReachFlags, type ServerReach } from "./client_command_line.ts";

const ID = "2xnbkpbc7izsilvewd7c62w7wnwziacmpfwvhcrya5nt76dqkpga";
const BASE: ServerReach = {
  endpointId: ID,
  relayUrls: ["https://euc1-1.relay.n0.iroh.link/"],
  publicRelays: true,
  dnsServer: "https://dns.iroh.link/pkarr",
  directAddrs: ["127.0.0.1:7000", "192.168.1.20:7000"],
  relayToken: false,
  credentials: "tokens",
};
const TOKEN = ["--auth-token", "<TOKEN>"];

Deno.test("clientReachFlags(): public relays and discovery need only the EndpointId", () => {
  assert.deepEqual(clientReachFlags(BASE), ["--server-node-id", ID, ...TOKEN]);
  assert.deepEqual(clientReachFlags({ ...BASE, credentials: "keys" }), [
    "--server-node-id",
    ID,
    "--client-key",
    "<KEY_FILE>",
  ]);
  assert.deepEqual(clientReachFlags({ ...BASE, credentials: "either" }).slice(-2), TOKEN);
});

/** A server started with --no-relay --no-dns. */
const OFFLINE: ServerReach = { ...BASE, relayUrls: [], publicRelays: false, dnsServer: undefined };

Deno.test("clientReachFlags(): --no-relay --no-dns gives a dialable address, not loopback", () => {
  assert.deepEqual(
    clientReachFlags(OFFLINE),
    ["--server-node-id", ID, "--no-dns", "--server-addr", "192.168.1.20:7000", ...TOKEN],
  );
  // Only loopback: that is what there is (a test on one machine).
  assert.deepEqual(
    clientReachFlags({ ...OFFLINE, directAddrs: ["127.0.0.1:7000"] }).slice(-3, -2),
    ["127.0.0.1:7000"],
  );
  // Every interface and no address found: a placeholder for the host, the port known.
  assert.deepEqual(
    clientReachFlags({
      ...OFFLINE,
      directAddrs: ["[::]:7000 (all interfaces; no address found)"],
    }).slice(-3, -2),
    ["<HOST>:7000"],
  );
});

Deno.test("clientReachFlags(): own relay and pkarr relay are named, with the relay token", () => {
  assert.deepEqual(
    clientReachFlags({
      ...BASE,
      relayUrls: ["https://relay.example/"],
      publicRelays: false,
      dnsServer: "https://relay.example/pkarr",
      relayToken: true,
    }),
    [
      "--server-node-id",
      ID,
      "--dns-server",
      "https://relay.example/pkarr",
      "--relay-url",
      "https://relay.example/",
      "--relay-token",
      "<RELAY_TOKEN>",
      ...TOKEN,
    ],
  );
  // A relay but no record: the relay is the way.
  assert.deepEqual(
    clientReachFlags({
      ...BASE,
      relayUrls: ["http://10.0.0.1:3340/"],
      publicRelays: false,
      dnsServer: undefined,
    }),
    ["--server-node-id", ID, "--relay-url", "http://10.0.0.1:3340/", "--no-dns", ...TOKEN],
  );
  // The public home relay without a record: the client must be told which one.
  assert.deepEqual(
    clientReachFlags({ ...BASE, dnsServer: undefined }),
    [
      "--server-node-id",
      ID,
      "--relay-url",
      "https://euc1-1.relay.n0.iroh.link/",
      "--no-dns",
      ...TOKEN,
    ],
  );
});

Deno.test("clientReachFlags(): the DHT's flags, and Tor's proxy with the onion relay (no --no-dns)", () => {
  assert.deepEqual(
    clientReachFlags({
      ...BASE,
      dnsServer: undefined,
      dht: { bootstrap: [{ hostname: "10.0.0.1", port: 6881 }], publicBootstrap: false },
    }),
    ["--server-node-id", ID, "--dht-bootstrap", "10.0.0.1:6881", "--no-dns", ...TOKEN],
  );
  const onion = "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion/";
  assert.deepEqual(
    clientReachFlags({
      ...BASE,
      relayUrls: [onion],
      publicRelays: false,
      dnsServer: undefined,
      socks5Proxy: { hostname: "127.0.0.1", port: 9050 },
    }),
    [
      "--server-node-id",
      ID,
      "--relay-url",
      onion,
      "--socks5-proxy",
      "socks5h://127.0.0.1:9050",
      ...TOKEN,
    ],
  );
});
