/**
 * The UDP socket the bed's bittorrent-dht processes (`_dht_node.ts`, `_dht_tool.ts`) run
 * on: a node:dgram socket that records every address it sends to, so a test can check
 * that a node given `bootstrap: [...]` never sent anything outside the bed (bittorrent-dht
 * falls back to public routers such as router.bittorrent.com when not told otherwise).
 * @module
 */
import dgram from "node:dgram";

/** A dgram socket and the `IP:PORT` destinations it was asked to send to. */
export interface RecordingSocket {
  readonly socket: dgram.Socket;
  /** Distinct destinations in first-send order, e.g. `"198.51.100.101:6881"`. */
  sentTo(): string[];
}

/** A udp4 socket whose `send` records its destination before sending. */
export function recordingSocket(): RecordingSocket {
  const socket = dgram.createSocket("udp4");
  const destinations = new Set<string>();
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  // k-rpc-socket calls send(buf, offset, length, port, host, cb); node:dgram, sending
  // before the bind completes, calls itself again as send(list, port, host, cb). The
  // destination is the first number followed by a string. A call without one (a
  // connected socket, which k-rpc never uses) is recorded as "unknown" so that a check
  // fails rather than pass over a destination it could not read.
  (socket as unknown as { send: (...args: unknown[]) => void }).send = (...args) => {
    const at = args.findIndex((arg, i) =>
      i > 0 && typeof arg === "number" && typeof args[i + 1] === "string"
    );
    destinations.add(at < 0 ? "unknown" : `${args[at + 1]}:${args[at]}`);
    send(...args);
  };
  return { socket, sentTo: () => [...destinations] };
}

/** An IPv4 address and UDP port. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `IPv4:PORT` strictly. Host names are refused: resolving one would ask the
 * namespace's resolver, which is not part of the bed.
 *
 * @throws {Error} naming the text when it is not an IPv4 literal with a port 1..65535.
 */
export function parseHostPort(text: string): HostPort {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/.exec(text);
  const octets = match?.slice(1, 5).map(Number);
  const port = Number(match?.[5]);
  if (!match || octets!.some((o) => o > 255) || port < 1 || port > 65535) {
    throw new Error(`not an IPv4 address and port: ${JSON.stringify(text)}`);
  }
  return { host: octets!.join("."), port };
}
