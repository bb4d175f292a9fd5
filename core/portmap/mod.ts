/**
 * Port mapping: asks the home router for a UDP port mapping with PCP (RFC 6887), NAT-PMP
 * (RFC 6886) or UPnP IGD (SSDP + SOAP), keeps it renewed and deletes it on close. The
 * codecs are sans-IO; {@link PortMapper} drives them over small I/O interfaces.
 *
 * ```ts
 * import { PortMapper } from "./mod.ts";
 *
 * const mapper = new PortMapper({
 *   internalPort: 4433, // the endpoint's UDP port
 *   onEvent: (event) => console.log(event.line), // mapped, renewed, lost, unavailable, ignored
 * });
 * const mapping = await mapper.start(); // { protocol, external: { address, port }, ... } or undefined
 * await mapper.close(); // deletes the mapping at the gateway (bounded)
 * ```
 *
 * Reading the default gateway needs `--allow-read=/proc/net/route` (Linux) and the LAN
 * address `--allow-sys=networkInterfaces`; without them, or without /proc, pass `gateway`
 * and `localAddress`, or the mapper reports "no port mapping" in one line.
 * @module
 */
export {
  MAPPING_PROTOCOLS,
  PORT_MAP_DEADLINES,
  type PortMapEvent,
  PortMapper,
  type PortMapperOptions,
  type PortMapping,
} from "./port_mapper.ts";
export {
  type ClientContext,
  type Grant,
  type MappingClient,
  type MappingProtocol,
  natPmpClient,
  pcpClient,
  UPNP_DESCRIPTION,
  upnpClient,
} from "./clients.ts";
export {
  type DatagramSocket,
  type Endpoint,
  type OpenDatagramSocket,
  openUdpSocket,
} from "./datagram.ts";
export {
  type HttpAnswer,
  type HttpRequest,
  type HttpTransport,
  tcpHttpTransport,
} from "./http_request.ts";
export { GatewayRefusal, PortMapError } from "./errors.ts";
export { type ExternalAddressKind, externalAddressKind } from "./ipv4.ts";
export {
  type DefaultGateway,
  type GatewayLookup,
  guessGateway,
  type InterfaceList,
  readDefaultGateway,
} from "./gateway.ts";
