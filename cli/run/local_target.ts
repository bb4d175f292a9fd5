/**
 * The client's local end: a TCP listener or UDP socket on `--target`, and the
 * loop that forwards it until the session or the user ends it.
 * @module
 */
import {
  formatHostPort,
  forwardTcp,
  forwardUdp,
  type SessionSupplier,
  type SourceProtocol,
} from "../../core/tunnel/mod.ts";
import { shutdownSignal } from "../options.ts";
import type { Output } from "../output.ts";

/** A bound local end. */
export type LocalTarget =
  | { protocol: "tcp"; listener: Deno.TcpListener; address: string; close(): void }
  | { protocol: "udp"; socket: Deno.DatagramConn; address: string; close(): void };

/**
 * Binds `target` for `protocol`.
 * @throws {Error} saying which address could not be bound and why.
 */
export function bindTarget(
  protocol: SourceProtocol,
  target: { host: string; port: number },
): LocalTarget {
  try {
    if (protocol === "tcp") {
      const listener = Deno.listen({ hostname: target.host, port: target.port });
      const addr = listener.addr as Deno.NetAddr;
      return {
        protocol,
        listener,
        address: formatHostPort(addr.hostname, addr.port),
        close: () => closeQuietly(listener),
      };
    }
    const socket = Deno.listenDatagram({
      transport: "udp",
      hostname: target.host,
      port: target.port,
    });
    const addr = socket.addr as Deno.NetAddr;
    return {
      protocol,
      socket,
      address: formatHostPort(addr.hostname, addr.port),
      close: () => closeQuietly(socket),
    };
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : (error as Error).message;
    throw new Error(
      `Cannot listen on ${
        formatHostPort(target.host, target.port)
      } (${protocol}): ${why}; choose another --target`,
    );
  }
}

function closeQuietly(resource: { close(): void }) {
  try {
    resource.close();
  } catch { /* already closed */ }
}

/**
 * Forwards until Ctrl-C (returns) or until `sessions` supplies no more (throws
 * why, so the process exits non-zero and a supervisor can restart it).
 * Closes `local` either way. `options.shutdown` is a {@linkcode shutdownSignal}
 * the caller already listens to (default: a new one).
 */
export async function forwardUntilDone(
  sessions: SessionSupplier,
  local: LocalTarget,
  out: Output,
  options: { shutdown?: Promise<unknown> } = {},
): Promise<void> {
  const forwarding = local.protocol === "tcp"
    ? forwardTcp(sessions, local.listener, out)
    : forwardUdp(sessions, local.socket, out).then(() => {});
  const outcome = await Promise.race([
    (options.shutdown ?? shutdownSignal()).then(() => "signal" as const),
    sessions.ended,
  ]);
  if (outcome === "signal") {
    out.info("Shutting down");
    sessions.close("client shut down");
    local.close();
    await forwarding;
    return;
  }
  local.close();
  await forwarding;
  throw outcome;
}
