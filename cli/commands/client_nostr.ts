/**
 * `tunnel client nostr`: asks a known server for a source through Nostr
 * relays, punches through with ICE, and serves the source locally.
 * @module
 */
import { Command } from "commander";
import { ICE_TIMEOUT_MS } from "../../core/connect/mod.ts";
import { NoOfferError, OFFER_TIMEOUT_MS } from "../../core/nostr/mod.ts";
import { formatSource, type Source } from "../../core/tunnel/mod.ts";
import type { Config } from "../config.ts";
import { pick } from "../options.ts";
import { Output } from "../output.ts";
import {
  type IceFlags,
  iceOptions,
  type IceSettings,
  iceSettings,
} from "../settings/ice_options.ts";
import { bindTarget } from "../run/local_target.ts";
import { runIceClient } from "../run/ice_client.ts";
import { modeHelp } from "../settings/mode_help.ts";
import {
  type NostrFlags,
  type NostrIdentity,
  nostrOptions,
  resolveNostrIdentity,
} from "../settings/nostr_options.ts";
import { openNostrSignaling } from "../run/nostr_signaling.ts";
import {
  type ConfigFlags,
  configOptions,
  type ForwardFlags,
  forwardOptions,
  loadModeConfig,
  parseSourceSetting,
  parseTargetSetting,
  requireSetting,
  type VerboseFlag,
  verboseOption,
} from "../settings/shared_flags.ts";

/** The command line of `tunnel client nostr`. */
export interface ClientNostrFlags
  extends ConfigFlags, IceFlags, ForwardFlags, NostrFlags, VerboseFlag {}

/** Everything `client nostr` needs, checked. */
export interface ClientNostrSettings {
  identity: NostrIdentity;
  source: Source;
  target: { host: string; port: number };
  ice: IceSettings;
}

/** Defines the command. */
export function clientNostrCommand(): Command {
  const command = iceOptions(
    nostrOptions(modeHelp(configOptions(new Command("nostr")), "client", "nostr")),
  ).description("ICE with signaling through Nostr relays: ask a known server for a source");
  forwardOptions(command);
  return verboseOption(command).action(async (flags: ClientNostrFlags) => {
    const config = await loadModeConfig(flags, "client", "nostr");
    await runClientNostr(
      await resolveClientNostrSettings(flags, config),
      new Output(flags.verbose),
    );
  });
}

/**
 * Merges CLI flags over config values and checks them.
 * @throws {UsageError} naming the first bad or missing setting.
 */
export async function resolveClientNostrSettings(
  flags: ClientNostrFlags,
  config?: Config<"client", "nostr">,
): Promise<ClientNostrSettings> {
  const file = config?.values ?? {};
  const sourceText = requireSetting(
    pick(flags.source, file.request_source),
    "--source",
    "request_source",
  );
  const targetText = requireSetting(pick(flags.target, file.target), "--target", "target");
  const source = parseSourceSetting(sourceText);
  return {
    identity: await resolveNostrIdentity(flags, file),
    source,
    target: parseTargetSetting(targetText, source),
    ice: iceSettings(flags, file.stun_servers),
  };
}

/**
 * Runs one nostr-mode client session.
 * @throws {Error} naming the server's npub and the relays when no offer comes
 * within {@linkcode OFFER_TIMEOUT_MS} (one-shot signaling: the client exits, as
 * on any other failure).
 */
export async function runClientNostr(settings: ClientNostrSettings, out: Output): Promise<void> {
  const local = bindTarget(settings.source.protocol, settings.target);
  let signaling;
  try {
    signaling = await openNostrSignaling(settings.identity, out);
    const { session, channel } = signaling.hub.request(formatSource(settings.source));
    out.info(
      `Asking ${settings.identity.peer.npub} for ${formatSource(settings.source)} (waiting up to ${
        OFFER_TIMEOUT_MS / 1000
      } s for its offer)...`,
    );
    await runIceClient({
      channel,
      ice: settings.ice,
      source: settings.source,
      local,
      // The session id travelled encrypted to the server alone: it is the credential.
      credential: () => new TextEncoder().encode(session),
      timeoutMs: ICE_TIMEOUT_MS,
      firstSpeaker: "acceptor",
      onPunched: () => signaling!.close(),
    }, out).catch((error) => {
      if (!(error instanceof NoOfferError)) throw error;
      const { identity } = settings;
      throw new Error(
        `No answer from ${identity.peer.npub} within ${error.timeoutMs / 1000} s through ${
          identity.relays.join(", ")
        }: check that its server runs with --peer-npub ${identity.secret.publicKey.npub} and shares a relay`,
      );
    });
  } finally {
    signaling?.close();
    local.close();
  }
}
