/**
 * Running a server reached by EndpointId for a command: core's endpoint
 * (core/endpoint `startEndpointServer`) with the command's wording, its status
 * view, and Ctrl-C.
 * @module
 */
import {
  describeMapping,
  type RecordPublication,
  startEndpointServer,
} from "../../core/endpoint/mod.ts";
import { RelayRefusedError } from "../../core/relay/mod.ts";
import {
  formatHostPort,
  type PathStatus,
  type ServerLimits,
  type ServerServices,
  type SessionStatus,
} from "../../core/tunnel/mod.ts";
import { shutdownSignal } from "../options.ts";
import type { Output } from "../output.ts";
import { serveStatus, type StatusDocument } from "../status_endpoint.ts";
import type { IrohServerSettings } from "../settings/iroh_server_settings.ts";
import { PUBLIC_RELAY_URLS } from "../settings/iroh_paths.ts";
import { relayRefusalMessage } from "../settings/relay_token.ts";
import type { ServerReach } from "./client_command_line.ts";
import { openDhtNode } from "./dht_node.ts";
import { torRelayDial } from "../settings/socks_proxy.ts";

/**
 * Runs a server reachable by EndpointId (direct, relays, discovery, hole
 * punching; core/endpoint `startEndpointServer`) whose sessions carry what
 * `services` serve, until Ctrl-C.
 */
export async function runIrohServer(
  settings: IrohServerSettings,
  out: Output,
  services: (limits: ServerLimits) => ServerServices,
  options: {
    /** More of the status view (VPN mode's network). */
    status?: () => Pick<StatusDocument, "vpn">;
    /** Told how clients reach the server once it is reachable, before it waits for them. */
    started?: (reach: ServerReach) => void;
  } = {},
): Promise<void> {
  // Tor first: a proxy that is not Tor ends the start before anything is opened.
  const relayDial = settings.socks5Proxy && await torRelayDial(settings.socks5Proxy);
  const dht = settings.dht && await openDhtNode(settings.dht, out, { readOnly: true });
  let server;
  try {
    server = await startEndpointServer(
      {
        secretKey: settings.secretKey,
        authenticate: (credential) => settings.tokens.has(credential),
        authorizedKeys: settings.authorizedKeys?.keys,
        maxSessions: settings.maxSessions,
        bind: settings.bind,
        relayUrls: settings.publicRelays ? [] : settings.relayUrls,
        homeRelayCandidates: settings.publicRelays ? PUBLIC_RELAY_URLS : undefined,
        relayOnly: settings.relayOnly,
        pkarrUrl: settings.dnsServer,
        dht,
        relayDial,
        // Only a relay (or pkarr relay) at a named relay's origin gets its token, never a third party.
        accessTokenFor: (url) => settings.relayToken?.for(url),
        ice: settings.ice,
      },
      services,
      {
        log: out,
        onListening: (directAddrs) => {
          if (settings.freshKey) {
            out.warn(
              "no --secret-file given: using a fresh identity; its EndpointId changes on restart",
            );
          }
          out.info(`EndpointId: ${settings.secretKey.endpointId}`);
          if (settings.relayOnly) out.info("Relay only: no direct address is offered");
          for (const addr of directAddrs) out.info(`Listening on ${addr}`);
          if (settings.tokens.size > 0 || !settings.authorizedKeys) {
            out.info(`Auth tokens: ${settings.tokens.size} token(s) configured`);
          }
          const keys = settings.authorizedKeys;
          if (keys) out.info(`Client keys: ${keys.keys.size} authorized in ${keys.file}`);
        },
        onNoHomeRelay: (fallback) =>
          out.warn(
            `none of iroh's public relays answered; trying ${fallback} in the background (or pass --relay-url, or --no-relay)`,
          ),
        onRelayRefused: (error) => out.warn(`${relayRefusalMessage(error)}; not retrying`),
        onPublishFailed: (error) =>
          out.warn(
            `${error.message}. Clients cannot look this server up by its EndpointId until a publish succeeds (retried in the background); meanwhile they reach it with --server-addr or --relay-url, or pass --dns-server (your own relay) or --no-dns`,
          ),
      },
    );
  } catch (error) {
    await dht?.close();
    if (error instanceof RelayRefusedError) throw new Error(relayRefusalMessage(error));
    throw error;
  }
  options.started?.({
    endpointId: settings.secretKey.endpointId.toString(),
    relayUrls: server.relayUrls,
    publicRelays: settings.publicRelays,
    dnsServer: settings.dnsServer,
    dht: settings.dht,
    socks5Proxy: settings.socks5Proxy,
    directAddrs: server.directAddrs,
    relayToken: settings.relayToken !== undefined,
    credentials: settings.authorizedKeys === undefined
      ? "tokens"
      : settings.tokens.size === 0
      ? "keys"
      : "either",
  });
  out.info("Waiting for clients to connect...");
  const { limits, sessions, registry } = server;
  const statusView = settings.status &&
    serveStatus(settings.status, () => ({
      role: "server",
      endpointId: settings.secretKey.endpointId.toString(),
      sessions: markMappedPaths(registry.snapshot(), server.portMapping?.external),
      pools: {
        unauthenticated: {
          active: limits.unauthenticated.total,
          max: limits.unauthenticated.limits.total,
        },
        sessions: { active: sessions.active, max: sessions.max },
        tcpConnections: {
          active: limits.processTcpStreams.active,
          max: limits.processTcpStreams.max,
        },
        udpFlows: { active: limits.processUdpFlows.active, max: limits.processUdpFlows.max },
      },
      ...(server.portMapping ? { portMapping: describeMapping(server.portMapping) } : {}),
      ...(server.records.length > 0 ? { published: server.records.map(describePublication) } : {}),
      ...options.status?.(),
    }));
  if (statusView) {
    out.info(
      `Status: tunnel status ${formatHostPort(statusView.addr.hostname, statusView.addr.port)}`,
    );
  }
  await shutdownSignal();
  out.info("Shutting down");
  await statusView?.shutdown();
  await server.close();
  await dht?.close();
}

/**
 * "published at https://…/pkarr, 2026-12-06T19:00:00.000Z", "publishing in
 * the DHT", or "not published in the DHT: <why> (<when>)".
 */
function describePublication(place: RecordPublication): string {
  const last = place.last;
  if (!last) return `publishing ${place.where}`;
  const when = new Date(last.at).toISOString();
  return last.error
    ? `not published ${place.where}: ${last.error.message} (${when})`
    : `published ${place.where}, ${when}`;
}

/**
 * A client that dialed the listener's mapped address names it as its path's
 * label: the status view says so, since the client cannot tell a mapped
 * address from any other in the record.
 */
function markMappedPaths(
  sessions: SessionStatus[],
  mapped: { address: string; port: number } | undefined,
): SessionStatus[] {
  if (!mapped) return sessions;
  const label = formatHostPort(mapped.address, mapped.port);
  const mark = (path: PathStatus) =>
    path.kind === "direct" && path.label === label
      ? { ...path, label: `${label} (port-mapped)` }
      : path;
  return sessions.map((session) => ({
    ...session,
    path: session.path && mark(session.path),
    paths: session.paths.map(mark),
  }));
}
