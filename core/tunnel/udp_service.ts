/**
 * The `udp` service: datagrams of each client flow go out through a socket of
 * their own to the checked source, and its replies come back on that flow.
 * @module
 */
import type { AllowList } from "./allow_list.ts";
import type { Dialer } from "./dialer.ts";
import type { Resolver } from "./resolver.ts";
import type { ServerService } from "./service.ts";
import type { SessionLimiter } from "./session_limiter.ts";
import { checkSource, type SourceGrant } from "./source_check.ts";
import { serveUdpFlows } from "./udp_server_relay.ts";

/**
 * UDP flows of all sessions together: each holds a socket (a file descriptor)
 * and a receive buffer of 4 KiB (64 KiB once it has carried a larger datagram).
 */
export const MAX_PROCESS_UDP_FLOWS = 4_096;

/** What the `udp` service needs. */
export interface UdpServiceOptions {
  /** Networks sources may be in. */
  allowed: AllowList;
  /** Resolves requested host names. */
  resolve: Resolver;
  /** How the server opens a socket per flow. */
  dialer: Dialer;
  /** Flows of all sessions of the process. */
  processFlows: SessionLimiter;
}

/** The `udp` service handler. */
export function udpService(options: UdpServiceOptions): ServerService<SourceGrant> {
  return {
    check: (request) => checkSource(request, "udp", options.allowed, options.resolve),
    serve: (grant, session) =>
      serveUdpFlows(
        session.conn,
        session.control,
        { address: grant.addresses[0], port: grant.source.port },
        {
          log: session.log,
          label: session.label,
          warnings: session.warnings,
          processFlows: options.processFlows.forClient(session.client),
          stats: session.stats,
          dialer: options.dialer,
        },
      ),
  };
}
