// `--target` in every form tunnel-rs users write (host:port, tcp://host:port,
// udp://host:port), in every client mode and in config files, and the forms refused.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { NostrSecretKey } from "../../core/nostr/mod.ts";
import type { Source } from "../../core/tunnel/mod.ts";
import { resolveClientIrohSettings } from "../commands/client_iroh.ts";
import { resolveClientManualSettings } from "../commands/client_manual.ts";
import { resolveClientNostrSettings } from "../commands/client_nostr.ts";
import { parseConfig } from "../config.ts";
import { UsageError } from "../usage_error.ts";
import { parseTargetSetting } from "./shared_flags.ts";

const UDP: Source = { protocol: "udp", host: "127.0.0.1", port: 51820 };
const TCP: Source = { protocol: "tcp", host: "127.0.0.1", port: 22 };

Deno.test("parseTargetSetting() takes host:port and the source's own scheme", () => {
  assert.deepEqual(parseTargetSetting("udp://0.0.0.0:51820", UDP), {
    host: "0.0.0.0",
    port: 51820,
  });
  assert.deepEqual(parseTargetSetting("0.0.0.0:51820", UDP), { host: "0.0.0.0", port: 51820 });
  assert.deepEqual(parseTargetSetting("tcp://127.0.0.1:2222", TCP), {
    host: "127.0.0.1",
    port: 2222,
  });
  assert.deepEqual(parseTargetSetting("tcp://[::1]:2222", TCP), { host: "::1", port: 2222 });
  assert.deepEqual(parseTargetSetting("[::1]:0", TCP), { host: "::1", port: 0 });
  assert.deepEqual(parseTargetSetting("localhost:2222", TCP), { host: "localhost", port: 2222 });
});

Deno.test("parseTargetSetting() refuses bad forms with one line naming the value", () => {
  const cases: [string, Source, RegExp][] = [
    [
      "tcp://0.0.0.0:51820",
      UDP,
      /^Invalid --target 'tcp:\/\/0\.0\.0\.0:51820': the source udp:\/\/127\.0\.0\.1:51820 is UDP, so the target listens for UDP/,
    ],
    [
      "udp://127.0.0.1:2222",
      TCP,
      /is TCP, so the target listens for TCP \(write tcp:\/\/\.\.\. or host:port\)$/,
    ],
    [
      "http://127.0.0.1:2222",
      TCP,
      /^Invalid --target 'http:\/\/127\.0\.0\.1:2222': scheme must be tcp:\/\/ or udp:\/\//,
    ],
    ["udp://0.0.0.0", UDP, /^Invalid --target address '0\.0\.0\.0': expected host:port/],
    ["udp://0.0.0.0:51820/x", UDP, /^Invalid --target address '0\.0\.0\.0:51820\/x'/],
    ["udp://:51820", UDP, /^Invalid --target address ':51820'/],
    ["udp://0.0.0.0:65536", UDP, /^Invalid --target address/],
    ["2222", TCP, /^Invalid --target address '2222': expected host:port/],
    ["udp:0.0.0.0:1", UDP, /^Invalid --target address 'udp:0\.0\.0\.0:1'/],
    ["", TCP, /^Invalid --target address ''/],
  ];
  for (const [text, source, message] of cases) {
    assert.throws(
      () => parseTargetSetting(text, source),
      (error: Error) => error instanceof UsageError && message.test(error.message),
      text,
    );
  }
});

const id = SecretKey.generate().endpointId.toString();
const own = NostrSecretKey.generate();
const peer = NostrSecretKey.generate().publicKey;

/** Each client mode's settings from a config file with `target`, and with a `--target` flag. */
const MODES = {
  iroh: {
    section:
      `server_node_id = "${id}"\nserver_addrs = ["127.0.0.1:1"]\nauth_token = "${generateToken()}"\n`,
    resolve: async (flags: { target?: string }, text?: string) =>
      (await resolveClientIrohSettings(flags, text ? config(text, "iroh") : undefined)).target,
  },
  nostr: {
    section: `nsec = "${own.nsec}"\npeer_npub = "${peer.npub}"\nrelays = ["wss://relay.example"]\n`,
    resolve: async (flags: { target?: string }, text?: string) =>
      (await resolveClientNostrSettings(flags, text ? config(text, "nostr") : undefined)).target,
  },
  manual: {
    section: "",
    // async: a throw becomes a rejection, as in the other modes.
    resolve: async (flags: { target?: string }, text?: string) =>
      await resolveClientManualSettings(flags, text ? config(text, "manual") : undefined).target,
  },
} as const;

function config<M extends "iroh" | "nostr" | "manual">(text: string, mode: M) {
  return parseConfig(text, "client.toml", "client", mode);
}

for (const [mode, { section, resolve }] of Object.entries(MODES)) {
  Deno.test(`client ${mode}: --target and the config's target take every form`, async () => {
    const file = (target: string) =>
      `role = "client"\nmode = "${mode}"\n[${mode}]\n${section}request_source = "udp://127.0.0.1:51820"\ntarget = "${target}"\n`;
    for (const target of ["udp://0.0.0.0:51820", "0.0.0.0:51820"]) {
      assert.deepEqual(await resolve({}, file(target)), { host: "0.0.0.0", port: 51820 });
      assert.deepEqual(await resolve({ target }, file("127.0.0.1:1")), {
        host: "0.0.0.0",
        port: 51820,
      });
    }
    await assert.rejects(
      () => resolve({}, file("tcp://0.0.0.0:51820")),
      (error: Error) =>
        error instanceof UsageError &&
        /the source udp:\/\/127\.0\.0\.1:51820 is UDP/.test(error.message),
    );
    await assert.rejects(
      () => resolve({ target: "ftp://0.0.0.0:1" }, file("127.0.0.1:1")),
      (error: Error) =>
        error instanceof UsageError && /scheme must be tcp:\/\/ or udp:\/\//.test(error.message),
    );
  });
}
