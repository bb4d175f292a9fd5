/**
 * `tunnel server nostr`: waits for a known client's requests on Nostr relays,
 * answers each with ICE parameters, punches through and serves the source it
 * asked for; many sessions at once, up to `--max-sessions`.
 * @module
 */
import { GOODBYE_LINGER_MS, SHUTDOWN_CLOSE } from "../../core/endpoint/mod.ts";
import { Command, Option } from "commander";
import { constantTimeEqual } from "../../core/auth/mod.ts";
import { acceptOverIce, ICE_TIMEOUT_MS } from "../../core/connect/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import {
  ALPN,
  checkRequest,
  forwardingServices,
  serverLimits,
  SessionHost,
  SessionLimiter,
  systemResolver,
} from "../../core/tunnel/mod.ts";
import type { Config } from "../config.ts";
import { pick, shutdownSignal } from "../options.ts";
import { Output } from "../output.ts";
import { UsageError } from "../usage_error.ts";
import {
  type IceFlags,
  iceOptions,
  type IceSettings,
  iceSettings,
} from "../settings/ice_options.ts";
import { modeHelp } from "../settings/mode_help.ts";
import {
  type NostrFlags,
  type NostrIdentity,
  nostrOptions,
  resolveNostrIdentity,
} from "../settings/nostr_options.ts";
import { openNostrSignaling } from "../run/nostr_signaling.ts";
import {
  type AllowedNetworkFlags,
  allowedNetworkOptions,
  type AllowedNetworks,
  type ConfigFlags,
  configOptions,
  loadModeConfig,
  resolveAllowedNetworks,
  type VerboseFlag,
  verboseOption,
} from "../settings/shared_flags.ts";

/** Default `--max-sessions` in nostr mode (the specification's). */
export const DEFAULT_NOSTR_MAX_SESSIONS = 10;

/** The command line of `tunnel server nostr`. */
export interface ServerNostrFlags
  extends ConfigFlags, IceFlags, AllowedNetworkFlags, NostrFlags, VerboseFlag {
  maxSessions?: number;
}

/** Everything `server nostr` needs, checked. */
export interface ServerNostrSettings extends AllowedNetworks {
  identity: NostrIdentity;
  ice: IceSettings;
  /** 0: unlimited. */
  maxSessions: number;
}

/** Defines the command. */
export function serverNostrCommand(): Command {
  const command = iceOptions(
    nostrOptions(modeHelp(configOptions(new Command("nostr")), "server", "nostr")),
  ).description("ICE with signaling through Nostr relays: serve a known client's requests");
  allowedNetworkOptions(command).addOption(
    new Option(
      "--max-sessions <n>",
      `sessions at once, 0 for no limit (default ${DEFAULT_NOSTR_MAX_SESSIONS})`,
    ).argParser((value) => {
      if (!/^[0-9]+$/.test(value)) {
        throw new UsageError(`Invalid --max-sessions '${value}': must be 0 or a positive integer`);
      }
      return Number(value);
    }),
  );
  return verboseOption(command).action(async (flags: ServerNostrFlags) => {
    const config = await loadModeConfig(flags, "server", "nostr");
    await runServerNostr(
      await resolveServerNostrSettings(flags, config),
      new Output(flags.verbose),
    );
  });
}

/**
 * Merges CLI flags over config values and checks them.
 * @throws {UsageError} naming the first bad or missing setting.
 */
export async function resolveServerNostrSettings(
  flags: ServerNostrFlags,
  config?: Config<"server", "nostr">,
): Promise<ServerNostrSettings> {
  const file = config?.values ?? {};
  const networks = resolveAllowedNetworks(flags, config);
  const maxSessions = pick(flags.maxSessions, file.max_sessions) ?? DEFAULT_NOSTR_MAX_SESSIONS;
  if (!Number.isInteger(maxSessions) || maxSessions < 0) {
    throw new UsageError(`Invalid max_sessions ${maxSessions}: must be 0 or a positive integer`);
  }
  return {
    ...networks,
    identity: await resolveNostrIdentity(flags, file),
    ice: iceSettings(flags, file.stun_servers),
    maxSessions,
  };
}

/** Serves requests until Ctrl-C. */
export async function runServerNostr(settings: ServerNostrSettings, out: Output): Promise<void> {
  const limits = serverLimits(out);
  const services = forwardingServices({
    allowedTcp: settings.allowedTcp,
    allowedUdp: settings.allowedUdp,
    resolve: systemResolver,
    processTcpStreams: limits.processTcpStreams,
    processUdpFlows: limits.processUdpFlows,
  });
  const signaling = await openNostrSignaling(settings.identity, out);
  const { hub } = signaling;
  out.info(`npub: ${settings.identity.secret.publicKey.npub}`);
  out.info(`Waiting for ${settings.identity.peer.npub} to connect...`);
  const sessions = new SessionLimiter(
    settings.maxSessions === 0 ? Number.MAX_SAFE_INTEGER : settings.maxSessions,
  );
  const host = new SessionHost({ services, sessions, log: out, warnings: limits.warnings });
  // Sessions still punching hold a place too, so a burst of requests cannot overshoot.
  let punching = 0;
  const serving = (async () => {
    for (;;) {
      const request = await hub.nextRequest();
      if (!request) return;
      const label = host.nextLabel();
      // Refused before any ICE work: the client prints the reason.
      if (sessions.active + punching >= sessions.max) {
        const reason = `server is at its session limit (${settings.maxSessions}); try again later`;
        out.info(`[${label}] refused: ${reason}`);
        hub.refuse(request.session, reason);
        continue;
      }
      const { decision } = await checkRequest(services, request.source);
      if (!decision.accepted) {
        out.info(`[${label}] refused source ${request.source}: ${decision.reason}`);
        hub.refuse(request.session, decision.reason);
        continue;
      }
      punching++;
      (async () => {
        let punched = false;
        try {
          const conn = await acceptOverIce({
            channel: hub.accept(request.session),
            ...settings.ice,
            alpn: ALPN,
            secretKey: SecretKey.generate(),
            timeoutMs: ICE_TIMEOUT_MS,
            firstSpeaker: "acceptor",
          });
          hub.end(request.session);
          punched = true;
          punching--;
          // The session id travelled encrypted to us alone: it is the client's credential.
          const expected = new TextEncoder().encode(request.session);
          await host.serve(conn, (credential) => constantTimeEqual(expected, credential), label);
        } catch (error) {
          out.info(`[${label}] no connection: ${(error as Error).message}`);
        } finally {
          if (!punched) punching--;
          hub.end(request.session);
        }
      })();
    }
  })();
  await shutdownSignal();
  out.info("Shutting down");
  signaling.close();
  // Clients hear why at once, instead of after their idle timeout.
  if (host.closeAll(SHUTDOWN_CLOSE) > 0) {
    await new Promise((resolve) => setTimeout(resolve, GOODBYE_LINGER_MS));
  }
  await serving;
  limits.warnings.close();
}
