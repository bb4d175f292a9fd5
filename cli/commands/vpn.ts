/**
 * `tunnel vpn server` and `tunnel vpn client`: their options. What runs them
 * (the WireGuard engine, the TUN device) is loaded only when one of them runs.
 * @module
 */
import { Command, Option } from "commander";
import { readEnvSetting } from "../env.ts";
import { positiveInteger, repeatable } from "../options.ts";
import { Output } from "../output.ts";
import { iceOptions } from "../settings/ice_options.ts";
import { portMappingOption } from "../settings/iroh_ice.ts";
import { irohPathOptions } from "../settings/iroh_paths.ts";
import { DEFAULT_MAX_SESSIONS } from "../settings/iroh_server_settings.ts";
import { verboseOption } from "../settings/shared_flags.ts";
import {
  DEFAULT_KEEPALIVE_SECS,
  DEFAULT_LOCK_FILE,
  DEFAULT_VPN_MTU,
  DEFAULT_VPN_NETWORK,
  keepaliveSeconds,
  parseMtu,
  requireVpnSupport,
  type VpnClientFlags,
  type VpnServerFlags,
} from "../settings/vpn_options.ts";

/** Defines `tunnel vpn` and its two commands. */
export function vpnCommand(): Command {
  const vpn = new Command("vpn")
    .description(
      "a WireGuard VPN over the peer connection: TUN devices, assigned addresses, routes (Linux, macOS; root)",
    )
    .helpCommand(false);
  vpn.addCommand(vpnServerCommand());
  vpn.addCommand(vpnClientCommand());
  return vpn;
}

/** `tunnel vpn server`. */
function vpnServerCommand(): Command {
  const command = new Command("server")
    .description("give VPN clients addresses of a network and route it through WireGuard")
    .option(
      "-n, --network <cidr>",
      `VPN network; the server takes its first address (default ${DEFAULT_VPN_NETWORK})`,
    )
    .option("--server-ip <ip>", "the server's VPN address instead of the network's first")
    .addOption(
      new Option("--mtu <bytes>", `MTU of the VPN device (default ${DEFAULT_VPN_MTU})`).argParser(
        parseMtu,
      ),
    )
    .addOption(repeatable("--auth-tokens <token>", "accepted authentication token (repeatable)"))
    .option("--auth-tokens-file <file>", "file of accepted tokens, one per line, # comments")
    .option(
      "--authorized-keys <file>",
      "file of accepted client public keys, one per line with a comment (see generate-client-key)",
    )
    .addOption(
      new Option(
        "--max-sessions <n>",
        `maximum concurrent clients (default ${DEFAULT_MAX_SESSIONS})`,
      )
        .argParser(positiveInteger("--max-sessions")),
    )
    .option("--secret <base64>", "secret key for a persistent identity (base64)")
    .option("--secret-file <file>", "file holding the secret key (see generate-server-key)")
    .option("--bind <host:port>", "address to listen on (default all interfaces, random port)")
    .option("--status <host:port>", "serve a status view on this loopback address (tunnel status)")
    .option(
      "--masquerade [interface]",
      "let clients reach networks behind this host: IP forwarding on, and the VPN network masqueraded out of INTERFACE (default: every interface but the VPN device); undone on exit",
    );
  return verboseOption(
    portMappingOption(
      iceOptions(irohPathOptions(command, "server"), "the relays' own, on port 3478"),
      "server",
    ),
  ).action(async (flags: VpnServerFlags) => {
    requireVpnSupport();
    // The engine (WebAssembly, FFI) loads only when a VPN runs, never for other commands.
    const { resolveVpnServerSettings, runVpnServer } = await import("./vpn_server_run.ts");
    const settings = await resolveVpnServerSettings(flags, {
      authTokens: readEnvSetting("TUNNEL_AUTH_TOKENS"),
      relayToken: readEnvSetting("TUNNEL_RELAY_TOKEN"),
    });
    await runVpnServer(settings, new Output(flags.verbose));
  });
}

/** `tunnel vpn client`. */
function vpnClientCommand(): Command {
  const command = new Command("client")
    .description("join a VPN server's network (and --route networks) through a TUN device")
    .option("-n, --server-node-id <id>", "EndpointId of the VPN server")
    .addOption(
      repeatable("--server-addr <host:port>", "address the server listens on (repeatable)"),
    )
    .addOption(
      new Option("--mtu <bytes>", `MTU of the VPN device (default ${DEFAULT_VPN_MTU})`).argParser(
        parseMtu,
      ),
    )
    .addOption(
      new Option(
        "--keepalive-secs <seconds>",
        `WireGuard keepalive interval, 0 for none (default ${DEFAULT_KEEPALIVE_SECS})`,
      ).argParser(keepaliveSeconds),
    )
    .option("--auth-token <token>", "authentication token")
    .option("--auth-token-file <file>", "file holding the authentication token")
    .option(
      "--client-key <file>",
      "prove this client key instead of a token (see generate-client-key)",
    )
    .addOption(
      repeatable("--route <cidr>", "another network to route through the VPN (repeatable)"),
    )
    .option("--lock-file <file>", `single-instance lock (default ${DEFAULT_LOCK_FILE})`)
    .option("--status <host:port>", "serve a status view on this loopback address (tunnel status)")
    .addOption(
      new Option(
        "--no-reconnect",
        "connect once, and exit 1 when that fails or the server is lost, instead of retrying",
      ),
    );
  return verboseOption(
    portMappingOption(
      iceOptions(irohPathOptions(command, "client"), "the relay's own, on port 3478"),
      "client",
    ),
  ).action(async (flags: VpnClientFlags) => {
    requireVpnSupport();
    const { resolveVpnClientSettings, runVpnClient } = await import("./vpn_client_run.ts");
    const settings = await resolveVpnClientSettings(flags, {
      authToken: readEnvSetting("TUNNEL_AUTH_TOKEN"),
      relayToken: readEnvSetting("TUNNEL_RELAY_TOKEN"),
    });
    await runVpnClient(settings, new Output(flags.verbose));
  });
}
