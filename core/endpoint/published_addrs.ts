/**
 * Which of a server's addresses its discovery record carries.
 * @module
 */
import type { SocketAddress } from "../discovery/mod.ts";
import { isLoopbackAddress } from "../net/mod.ts";
import { parseHostPort } from "../tunnel/mod.ts";

/**
 * The listener's addresses as the record gives them. Loopback addresses reach
 * this machine only, so they go only to a pkarr relay on this machine too (a
 * client elsewhere would dial itself), never to the DHT (`pkarrUrl` undefined).
 */
export function publishedAddrs(
  directAddrs: readonly string[],
  pkarrUrl: string | undefined,
): SocketAddress[] {
  const keepLoopback = pkarrUrl !== undefined && isLoopbackAddress(new URL(pkarrUrl).hostname);
  return directAddrs.flatMap((text) => {
    try {
      const { host, port } = parseHostPort(text);
      return keepLoopback || !isLoopbackAddress(host) ? [{ hostname: host, port }] : [];
    } catch {
      return []; // "[::]:7000 (all interfaces; ...)": nothing dialable to publish
    }
  });
}
