// nostr mode's settings, client and server, resolved without a relay or a socket: flags over
// the config file, every missing or contradictory setting named, the server's session limit.
import assert from "node:assert/strict";
import { NostrSecretKey } from "../../core/nostr/mod.ts";
import { parseConfig } from "../config.ts";
import { UsageError } from "../usage_error.ts";
import { resolveClientNostrSettings } from "./client_nostr.ts";
import { DEFAULT_NOSTR_MAX_SESSIONS, resolveServerNostrSettings } from "./server_nostr.ts";

const own = NostrSecretKey.generate();
const peer = NostrSecretKey.generate().publicKey;

async function rejectsAsUsage(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(
    promise,
    (error: Error) => error instanceof UsageError && message.test(error.message),
  );
}

const clientConfig = parseConfig(
  `role = "client"
mode = "nostr"
[nostr]
nsec = "${own.nsec}"
peer_npub = "${peer.npub}"
relays = ["wss://relay.example"]
stun_servers = ["198.51.100.1:3478"]
request_source = "tcp://127.0.0.1:22"
target = "127.0.0.1:2222"
`,
  "c.toml",
  "client",
  "nostr",
);

Deno.test("resolveClientNostrSettings() reads the config file", async () => {
  const settings = await resolveClientNostrSettings({}, clientConfig);
  assert.equal(settings.identity.secret.publicKey.hex, own.publicKey.hex);
  assert.equal(settings.identity.peer.hex, peer.hex);
  assert.deepEqual(settings.identity.relays, ["wss://relay.example"]);
  assert.deepEqual(settings.source, { protocol: "tcp", host: "127.0.0.1", port: 22 });
  assert.deepEqual(settings.target, { host: "127.0.0.1", port: 2222 });
  assert.deepEqual(settings.ice.stunServers, ["198.51.100.1:3478"]);
});

Deno.test("resolveClientNostrSettings() takes flags over the config file", async () => {
  const settings = await resolveClientNostrSettings({
    source: "udp://127.0.0.1:53",
    target: "127.0.0.1:5353",
    relay: ["ws://127.0.0.1:7000"],
    stun: false,
  }, clientConfig);
  assert.deepEqual(settings.source, { protocol: "udp", host: "127.0.0.1", port: 53 });
  assert.deepEqual(settings.identity.relays, ["ws://127.0.0.1:7000"]);
  assert.deepEqual(settings.ice.stunServers, []);
});

Deno.test("resolveClientNostrSettings() names what is missing or wrong", async () => {
  await rejectsAsUsage(
    resolveClientNostrSettings({ nsec: own.nsec, peerNpub: peer.npub, target: "127.0.0.1:1" }),
    /--source/,
  );
  await rejectsAsUsage(
    resolveClientNostrSettings({ source: "tcp://127.0.0.1:22", target: "127.0.0.1:1" }),
    /Missing --nsec-file/,
  );
  await rejectsAsUsage(
    resolveClientNostrSettings({
      nsec: own.nsec,
      peerNpub: own.publicKey.npub,
      source: "tcp://127.0.0.1:22",
      target: "127.0.0.1:1",
    }),
    /your own key/,
  );
  await rejectsAsUsage(
    resolveClientNostrSettings({
      nsec: own.nsec,
      peerNpub: peer.npub,
      relay: ["https://relay.example"],
      source: "tcp://127.0.0.1:22",
      target: "127.0.0.1:1",
    }),
    /Invalid --relay 'https:\/\/relay.example'/,
  );
});

const serverFlags = { nsec: own.nsec, peerNpub: peer.npub, allowedTcp: ["127.0.0.0/8"] };

Deno.test("resolveServerNostrSettings(): the session limit defaults, 0 lifts it, a negative is refused", async () => {
  const settings = await resolveServerNostrSettings(serverFlags);
  assert.equal(settings.maxSessions, DEFAULT_NOSTR_MAX_SESSIONS);
  assert.deepEqual(settings.allowedTcp.networks.map((n) => n.text), ["127.0.0.0/8"]);
  assert.equal(
    (await resolveServerNostrSettings({ ...serverFlags, maxSessions: 0 })).maxSessions,
    0,
  );
  const config = parseConfig(
    `role = "server"
mode = "nostr"
[nostr]
max_sessions = -1
`,
    "s.toml",
    "server",
    "nostr",
  );
  await rejectsAsUsage(resolveServerNostrSettings(serverFlags, config), /max_sessions -1/);
});

Deno.test("resolveServerNostrSettings() names a contradiction in the keys", async () => {
  await rejectsAsUsage(
    resolveServerNostrSettings({ ...serverFlags, nsecFile: "key.nsec" }),
    /either --nsec or --nsec-file/,
  );
});
