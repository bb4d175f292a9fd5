/**
 * `tunnel status ADDRESS`: what a running server or client (started with
 * `--status ADDRESS`) is doing now: each session's peer, path, round trip,
 * bytes each way, open TCP connections and UDP flows, and time on its path.
 * @module
 */
import { Command } from "commander";
import { formatBytes, type SessionStatus } from "../../core/tunnel/mod.ts";
import { parseStatusAddress, type StatusDocument } from "../status_endpoint.ts";
import { formatHostPort } from "../../core/tunnel/mod.ts";

/** How long `tunnel status` waits for the answer. */
const STATUS_TIMEOUT_MS = 5_000;

/** The command line of `tunnel status`. */
export interface StatusFlags {
  json?: boolean;
}

/** Defines the command. */
export function statusCommand(): Command {
  return new Command("status")
    .description("show the sessions of a server or client started with --status ADDRESS")
    .argument("<address>", "the --status address, e.g. 127.0.0.1:7070")
    .option("--json", "print the status document as JSON (for scripts)")
    .action(async (address: string, flags: StatusFlags) => {
      const document = await fetchStatus(address);
      console.log(flags.json ? JSON.stringify(document, null, 2) : formatStatus(document));
    });
}

/**
 * Reads the status document of the process serving `address`.
 * @throws {UsageError} for a non-loopback address; {@linkcode Error} naming the address
 * when nothing answers there or the answer is not a status document.
 */
export async function fetchStatus(address: string): Promise<StatusDocument> {
  const { host, port } = parseStatusAddress(address);
  const url = `http://${formatHostPort(host, port)}/status`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
  } catch (error) {
    const why = (error as Error).name === "TimeoutError"
      ? "no answer within 5 s"
      : "nothing answers there";
    throw new Error(
      `Cannot read the status at ${url}: ${why} (start the server or client with --status ${address})`,
      { cause: error },
    );
  }
  const body = await response.text();
  let document: StatusDocument | undefined;
  try {
    document = JSON.parse(body);
  } catch { /* below */ }
  if (!response.ok || !document || !Array.isArray(document.sessions)) {
    throw new Error(
      `Cannot read the status at ${url}: not a tunnel status (HTTP ${response.status})`,
    );
  }
  return document;
}

/** The status document for people. */
export function formatStatus(document: StatusDocument): string {
  const head = document.role === "server"
    ? `server ${document.endpointId}: ${document.sessions.length} session(s)`
    : `client of ${document.endpointId}: ${document.state ?? "connected"}`;
  const vpn = document.vpn;
  const vpnLine = vpn === undefined
    ? []
    : document.role === "server"
    ? [`  vpn ${vpn.network}: ${vpn.address} on ${vpn.device}, ${vpn.clients ?? 0} client(s)`]
    : [
      `  vpn ${vpn.address} on ${vpn.device}${
        vpn.routes && vpn.routes.length > 0 ? `, routes ${vpn.routes.join(", ")}` : ""
      }`,
    ];
  const pools = document.pools;
  const poolLine = pools === undefined ? [] : [
    `  in use: ${pools.sessions.active}/${pools.sessions.max} sessions, ` +
    `${pools.tcpConnections.active}/${pools.tcpConnections.max} TCP connections, ` +
    `${pools.udpFlows.active}/${pools.udpFlows.max} UDP flows, ` +
    `${pools.unauthenticated.active}/${pools.unauthenticated.max} not yet authenticated`,
  ];
  const mappingLine = document.portMapping === undefined
    ? []
    : [`  port mapping: ${document.portMapping}`];
  const recordLine = document.record === undefined ? [] : [`  record: found ${document.record}`];
  const publishedLines = (document.published ?? []).map((place) => `  record: ${place}`);
  return [
    head,
    ...poolLine,
    ...mappingLine,
    ...recordLine,
    ...publishedLines,
    ...vpnLine,
    ...document.sessions.map(formatSession),
  ].join("\n");
}

function formatSession(session: SessionStatus): string {
  const path = session.path
    ? `${session.path.kind} ${session.path.label}${
      session.path.rttMs === null ? "" : `, rtt ${session.path.rttMs.toFixed(1)} ms`
    } for ${formatDuration(session.onPathMs)}`
    : "none";
  const others = session.paths.filter((p) =>
    !session.path || p.label !== session.path.label || p.kind !== session.path.kind
  );
  return [
    `  ${session.label}: ${session.peer}${
      session.clientKey ? ` ${session.clientKey}` : ""
    } -> ${session.source}`,
    `    path: ${path}`,
    ...others.map((p) =>
      `    also: ${p.kind} ${p.label}${p.live ? "" : " (not answering)"}${
        p.rttMs === null ? "" : `, rtt ${p.rttMs.toFixed(1)} ms`
      }`
    ),
    `    sent ${formatBytes(session.sent)}, received ${formatBytes(session.received)}; ` +
    `${session.tcpConnections} TCP connection(s), ${session.udpFlows} UDP flow(s)`,
  ].join("\n");
}

function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
