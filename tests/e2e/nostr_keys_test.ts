// The nostr key commands and key flags: files 0600, '-' for standard output,
// show-npub agreeing, and wrong or malformed keys refused in one line.
import assert from "node:assert/strict";
import { NostrSecretKey } from "../../core/nostr/mod.ts";
import { runCli } from "../harness/mod.ts";

Deno.test("generate-nostr-key writes 0600 and prints the npub; show-npub agrees; '-' prints the nsec", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/client.nsec`;
    const write = [`--allow-write=${dir}`];
    const made = await runCli(["generate-nostr-key", "--output", path], {
      readPaths: [dir],
      denoFlags: write,
    });
    assert.equal(made.code, 0, made.stderr);
    const npub = made.stdout.trim();
    assert.match(npub, /^npub1[02-9ac-hj-np-z]{58}$/);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const shown = await runCli(["show-npub", "--nsec-file", path], { readPaths: [dir] });
    assert.equal(shown.stdout.trim(), npub);
    const again = await runCli(["generate-nostr-key", "--output", path], {
      readPaths: [dir],
      denoFlags: write,
    });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists \(use --force to overwrite\)/);
    const piped = await runCli(["generate-nostr-key", "--output", "-"]);
    const nsec = piped.stdout.trim();
    assert.equal(NostrSecretKey.parse(nsec).publicKey.npub, piped.stderr.trim());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a wrong or malformed nostr key is one line naming the flag and the problem, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = NostrSecretKey.generate();
    await Deno.writeTextFile(`${dir}/npub-instead`, key.publicKey.npub + "\n");
    const cases: [string[], RegExp][] = [
      [["show-npub", "--nsec-file", `${dir}/npub-instead`], /this is a public key \(npub\)/],
      [
        [
          "server",
          "nostr",
          "--nsec",
          key.nsec,
          "--peer-npub",
          key.nsec,
          "--allowed-tcp",
          "127.0.0.0/8",
        ],
        /^Error: Invalid --peer-npub: this is a secret key \(nsec\)/,
      ],
      [
        [
          "client",
          "nostr",
          "--nsec",
          "nsec1bogus",
          "--peer-npub",
          key.publicKey.npub,
          "-s",
          "tcp://h:1",
          "-t",
          "127.0.0.1:0",
        ],
        /^Error: Invalid --nsec: not a valid nsec/,
      ],
      [
        [
          "server",
          "nostr",
          "--nsec",
          key.nsec,
          "--peer-npub",
          key.publicKey.npub,
          "--allowed-tcp",
          "127.0.0.0/8",
        ],
        /--peer-npub is your own key/,
      ],
      [
        ["server", "nostr", "--peer-npub", key.publicKey.npub, "--allowed-tcp", "127.0.0.0/8"],
        /Missing --nsec-file .*generate-nostr-key/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { readPaths: [dir] });
      assert.equal(result.code, 2, `${args.join(" ")}\n${result.stderr}`);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a [nostr] config file gives the mode: `tunnel server -c` runs nostr mode", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = NostrSecretKey.generate();
    const peer = NostrSecretKey.generate();
    await Deno.writeTextFile(
      `${dir}/server.toml`,
      `role = "server"\nmode = "nostr"\n[nostr]\nnsec = "${key.nsec}"\npeer_npub = "${peer.publicKey.npub}"\nrelays = ["ws://127.0.0.1:1"]\nmax_sessions = 0\n[nostr.allowed_sources]\ntcp = ["127.0.0.0/8"]\n`,
    );
    // No relay answers there: the one-line error names it, so the file was read as nostr mode.
    const result = await runCli(["server", "-c", `${dir}/server.toml`], {
      readPaths: [dir],
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr.trim(),
      /^Error: Cannot reach any Nostr relay: ws:\/\/127\.0\.0\.1:1 /,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
