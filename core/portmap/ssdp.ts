/**
 * SSDP (UPnP Device Architecture 1.1, section 1.3): the M-SEARCH for an Internet Gateway
 * Device and the unicast answers to it. Sans-IO.
 * @module
 */
import { PortMapError } from "./errors.ts";
import { isIpv4, sameSubnet } from "./ipv4.ts";

/** The SSDP multicast group and port. */
export const SSDP_ADDRESS = { hostname: "239.255.255.250", port: 1900 } as const;
/** Largest SSDP answer read; real ones are about 400 bytes. */
export const SSDP_MAX_ANSWER = 2048;
/** Device types searched for, IGD version 1 and 2. */
export const IGD_SEARCH_TARGETS = [
  "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
  "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
] as const;

/** The M-SEARCH datagram for `searchTarget`; MX 1 keeps the gateway's answer within a second. */
export function encodeMSearch(searchTarget: string): Uint8Array {
  return new TextEncoder().encode(
    "M-SEARCH * HTTP/1.1\r\n" +
      `HOST: ${SSDP_ADDRESS.hostname}:${SSDP_ADDRESS.port}\r\n` +
      'MAN: "ssdp:discover"\r\n' +
      "MX: 1\r\n" +
      `ST: ${searchTarget}\r\n\r\n`,
  );
}

/** Where the gateway's device description lives. */
export interface SsdpAnswer {
  /** `http://host:port/path` of the device description. */
  location: URL;
}

/** The network an SSDP answer must come from and point into. */
export interface LocalNetwork {
  /** The gateway, when known: LOCATION must then name exactly it. */
  gateway?: string;
  /** This host's LAN address and prefix length: LOCATION must be on that subnet otherwise. */
  localAddress: string;
  prefixLength: number;
}

/** Checks that `host` is the gateway or on the local subnet, as UPnP answers must be. */
export function checkLocalHost(host: string, net: LocalNetwork, what: string): void {
  if (!isIpv4(host)) {
    throw new PortMapError(`${what} host ${host.slice(0, 60)} is not an IPv4 address`);
  }
  if (
    net.gateway !== undefined
      ? host !== net.gateway
      : !sameSubnet(host, net.localAddress, net.prefixLength)
  ) {
    const where = net.gateway ?? `${net.localAddress}/${net.prefixLength}`;
    throw new PortMapError(`${what} points at ${host}, not the gateway's network (${where})`);
  }
}

/**
 * Parses an M-SEARCH answer: at most {@link SSDP_MAX_ANSWER} bytes, status 200, an ST of an
 * IGD, and a LOCATION that is plain `http://` to an IPv4 address on the local network
 * (anything else would let a LAN host steer us elsewhere).
 */
export function parseSsdpAnswer(datagram: Uint8Array, net: LocalNetwork): SsdpAnswer {
  if (datagram.length > SSDP_MAX_ANSWER) {
    throw new PortMapError(`SSDP answer over ${SSDP_MAX_ANSWER} bytes (the limit)`);
  }
  const text = new TextDecoder("utf-8", { fatal: false }).decode(datagram);
  const lines = text.split(/\r?\n/);
  if (!/^HTTP\/1\.[01] 200\b/.test(lines[0] ?? "")) {
    throw new PortMapError(
      `SSDP answer does not start with HTTP/1.1 200: ${
        JSON.stringify((lines[0] ?? "").slice(0, 40))
      }`,
    );
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const st = headers.get("st") ?? "";
  if (!(IGD_SEARCH_TARGETS as readonly string[]).includes(st)) {
    throw new PortMapError(`SSDP answer for ${JSON.stringify(st.slice(0, 80))}, not an IGD`);
  }
  const raw = headers.get("location");
  if (!raw) throw new PortMapError("SSDP answer without LOCATION");
  let location: URL;
  try {
    location = new URL(raw);
  } catch {
    throw new PortMapError(`SSDP LOCATION is not a URL: ${JSON.stringify(raw.slice(0, 80))}`);
  }
  if (location.protocol !== "http:" || location.username || location.password) {
    throw new PortMapError(
      `SSDP LOCATION must be plain http://, not ${JSON.stringify(raw.slice(0, 80))}`,
    );
  }
  checkLocalHost(location.hostname, net, "SSDP LOCATION");
  return { location };
}
