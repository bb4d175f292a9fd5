/**
 * Flags both nostr-mode commands take (`--nsec`, `--nsec-file`, `--peer-npub`,
 * `--relay`) and what they resolve to: our key, the peer's, the relays.
 * @module
 */
import type { Command } from "commander";
import { NostrPublicKey, NostrSecretKey } from "../../core/nostr/mod.ts";
import { pick, repeatable } from "../options.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { loadNostrKey } from "./key_files.ts";

/** Public Nostr relays used when none is named (the specification's list). */
export const DEFAULT_NOSTR_RELAYS: readonly string[] = [
  "wss://nos.lol",
  "wss://relay.nostr.net",
  "wss://relay.primal.net",
  "wss://relay.snort.social",
];

/** The flags, as commander parses them. */
export interface NostrFlags {
  nsec?: string;
  nsecFile?: string;
  peerNpub?: string;
  relay?: string[];
}

/** Who signals with whom, and where. */
export interface NostrIdentity {
  secret: NostrSecretKey;
  peer: NostrPublicKey;
  relays: string[];
}

/** Adds the flags. */
export function nostrOptions(command: Command): Command {
  return command
    .option("--nsec <key>", "your Nostr secret key (nsec1… or hex)")
    .option("--nsec-file <file>", "file holding your Nostr secret key (see generate-nostr-key)")
    .option("--peer-npub <key>", "the peer's Nostr public key (npub1… or hex)")
    .addOption(
      repeatable(
        "--relay <url>",
        `Nostr relay for signaling (repeatable; default: ${DEFAULT_NOSTR_RELAYS.join(", ")})`,
      ),
    );
}

/**
 * Resolves the flags over the config file's `nsec`, `nsec_file`, `peer_npub`, `relays`.
 * @throws {UsageError} naming a missing, contradictory or malformed setting.
 */
export async function resolveNostrIdentity(
  flags: NostrFlags,
  file: { nsec?: string; nsec_file?: string; peer_npub?: string; relays?: string[] },
): Promise<NostrIdentity> {
  if (flags.nsec !== undefined && flags.nsecFile !== undefined) {
    throw new UsageError("Use either --nsec or --nsec-file, not both");
  }
  let secret: NostrSecretKey;
  const nsec = flags.nsecFile === undefined ? pick(flags.nsec, file.nsec) : undefined;
  const nsecFile = flags.nsec === undefined ? pick(flags.nsecFile, file.nsec_file) : undefined;
  if (nsec !== undefined) {
    secret = asUsageError(() => {
      try {
        return NostrSecretKey.parse(nsec);
      } catch (error) {
        throw new TypeError(`Invalid --nsec: ${(error as Error).message}`);
      }
    });
  } else if (nsecFile !== undefined) {
    secret = await loadNostrKey(nsecFile);
  } else {
    throw new UsageError(
      "Missing --nsec-file (or --nsec, or 'nsec_file' in the config file): create a key with 'tunnel generate-nostr-key --output FILE'",
    );
  }
  const npub = pick(flags.peerNpub, file.peer_npub);
  if (npub === undefined) {
    throw new UsageError(
      "Missing --peer-npub (or 'peer_npub' in the config file): the peer's 'tunnel show-npub' prints it",
    );
  }
  const peer = asUsageError(() => {
    try {
      return NostrPublicKey.parse(npub);
    } catch (error) {
      throw new TypeError(`Invalid --peer-npub: ${(error as Error).message}`);
    }
  });
  if (peer.hex === secret.publicKey.hex) {
    throw new UsageError("--peer-npub is your own key: give the other side's npub");
  }
  const relays = pick(flags.relay, file.relays) ?? [...DEFAULT_NOSTR_RELAYS];
  for (const url of relays) {
    if (!/^wss?:\/\/[^/\s]+/.test(url)) {
      throw new UsageError(`Invalid --relay '${url}': expected a ws:// or wss:// URL`);
    }
  }
  if (relays.length === 0) throw new UsageError("No Nostr relay: name one with --relay");
  return { secret, peer, relays };
}
