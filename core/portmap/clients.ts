/**
 * The three protocol clients behind one interface: PCP, NAT-PMP and UPnP IGD each get,
 * renew and delete one UDP mapping, with I/O behind {@link DatagramSocket} and
 * {@link HttpTransport}.
 * @module
 */
import {
  type DatagramSocket,
  type Endpoint,
  exchange,
  type OpenDatagramSocket,
} from "./datagram.ts";
import { GatewayRefusal, PortMapError } from "./errors.ts";
import type { HttpTransport } from "./http_request.ts";
import {
  externalAddressOf,
  findWanService,
  IGD_MAX_DESCRIPTION,
  IGD_MAX_SOAP_ANSWER,
  parseSoapAnswer,
  soapAddPortMapping,
  soapDeletePortMapping,
  SoapFault,
  soapGetExternalAddress,
  type SoapRequest,
  UPNP_CONFLICT,
  UPNP_ONLY_PERMANENT,
  type WanService,
} from "./igd.ts";
import { externalAddressKind } from "./ipv4.ts";
import {
  decodeNatPmpAddress,
  decodeNatPmpMap,
  encodeNatPmpAddressRequest,
  encodeNatPmpMap,
  NAT_PMP_PORT,
} from "./natpmp.ts";
import {
  decodePcpMap,
  encodePcpMap,
  isNatPmpVersionRefusal,
  PCP_MAX_MESSAGE,
  PCP_PORT,
  type PcpMapRequest,
} from "./pcp.ts";
import {
  encodeMSearch,
  IGD_SEARCH_TARGETS,
  parseSsdpAnswer,
  SSDP_ADDRESS,
  SSDP_MAX_ANSWER,
} from "./ssdp.ts";

/** A mapping protocol's name. */
export type MappingProtocol = "pcp" | "nat-pmp" | "upnp";

/** What a gateway granted. */
export interface Grant {
  /** The address peers send to. */
  externalAddress: string;
  /** The port peers send to. */
  externalPort: number;
  /** Seconds; 0 for a permanent UPnP mapping (deleted on close, never renewed). */
  lifetimeSeconds: number;
}

/** One protocol's client. `previous` asks to renew that grant (same external port). */
export interface MappingClient {
  /** Which protocol this client speaks. */
  readonly protocol: MappingProtocol;
  /** Asks for (or, with `previous`, renews) a mapping of `internalPort`; ends by `signal`. */
  map(
    internalPort: number,
    lifetimeSeconds: number,
    previous: Grant | undefined,
    signal: AbortSignal,
  ): Promise<Grant>;
  /** Deletes the mapping; ends by `signal`. */
  unmap(internalPort: number, grant: Grant, signal: AbortSignal): Promise<void>;
}

/** What the clients share: where the gateway is, who we are, and the I/O. */
export interface ClientContext {
  /** The gateway's IPv4 address. */
  gateway: string;
  /** This host's LAN address (PCP client address, UPnP internal client). */
  localAddress: string;
  /** Prefix length of the LAN. */
  prefixLength: number;
  /** Opens the UDP socket of one exchange. */
  openSocket: OpenDatagramSocket;
  /** Sends the UPnP HTTP requests. */
  http: HttpTransport;
  /** PCP/NAT-PMP server port (5351; tests use another). */
  gatewayPort?: number;
  /** Where M-SEARCH goes (the SSDP group; tests use a loopback port). */
  ssdpTarget?: Endpoint;
  /** Receives one line per ignored answer. */
  onIgnored(line: string): void;
}

function checkExternal(address: string, what: string): void {
  if (externalAddressKind(address) === "unusable") {
    throw new PortMapError(
      `${what} names external address ${address}, which no peer outside can reach`,
    );
  }
}

async function withSocket<T>(
  open: OpenDatagramSocket,
  use: (s: DatagramSocket) => Promise<T>,
): Promise<T> {
  const socket = open();
  try {
    return await use(socket);
  } finally {
    socket.close();
  }
}

/** PCP MAP (RFC 6887); the nonce stays the same for the client's life, as renewals need. */
export function pcpClient(ctx: ClientContext): MappingClient {
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const server = { hostname: ctx.gateway, port: ctx.gatewayPort ?? PCP_PORT };
  const send = (request: PcpMapRequest, signal: AbortSignal, check: boolean) =>
    withSocket(ctx.openSocket, (socket) =>
      exchange({
        socket,
        request: encodePcpMap(request),
        to: server,
        from: server,
        maxBytes: PCP_MAX_MESSAGE,
        signal,
        onIgnored: ctx.onIgnored,
        what: "PCP",
        accept: (data) => {
          if (isNatPmpVersionRefusal(data)) {
            throw new GatewayRefusal("PCP: the gateway speaks NAT-PMP only");
          }
          const answer = decodePcpMap(data, request);
          if (check) checkExternal(answer.externalAddress, "PCP answer");
          return answer;
        },
      }));
  return {
    protocol: "pcp",
    map: async (internalPort, lifetimeSeconds, previous, signal) => {
      const answer = await send(
        {
          nonce,
          clientAddress: ctx.localAddress,
          internalPort,
          suggestedExternalPort: previous?.externalPort ?? internalPort,
          suggestedExternalAddress: previous?.externalAddress ?? "0.0.0.0",
          lifetimeSeconds,
        },
        signal,
        true,
      );
      return {
        externalAddress: answer.externalAddress,
        externalPort: answer.externalPort,
        lifetimeSeconds: answer.lifetimeSeconds,
      };
    },
    unmap: async (internalPort, grant, signal) => {
      await send(
        {
          nonce,
          clientAddress: ctx.localAddress,
          internalPort,
          suggestedExternalPort: grant.externalPort,
          suggestedExternalAddress: grant.externalAddress,
          lifetimeSeconds: 0,
        },
        signal,
        false,
      );
    },
  };
}

/** NAT-PMP (RFC 6886): the external address, then the UDP mapping. */
export function natPmpClient(ctx: ClientContext): MappingClient {
  const server = { hostname: ctx.gateway, port: ctx.gatewayPort ?? NAT_PMP_PORT };
  const common = {
    to: server,
    from: server,
    maxBytes: 16,
    onIgnored: ctx.onIgnored,
    what: "NAT-PMP",
  };
  const mapRequest = (
    socket: DatagramSocket,
    internalPort: number,
    external: number,
    lifetime: number,
    signal: AbortSignal,
  ) =>
    exchange({
      ...common,
      socket,
      signal,
      request: encodeNatPmpMap(internalPort, external, lifetime),
      accept: (data) => decodeNatPmpMap(data, internalPort, lifetime),
    });
  return {
    protocol: "nat-pmp",
    map: (internalPort, lifetimeSeconds, previous, signal) =>
      withSocket(ctx.openSocket, async (socket) => {
        const { externalAddress } = await exchange({
          ...common,
          socket,
          signal,
          request: encodeNatPmpAddressRequest(),
          accept: (data) => {
            const answer = decodeNatPmpAddress(data);
            checkExternal(answer.externalAddress, "NAT-PMP answer");
            return answer;
          },
        });
        const answer = await mapRequest(
          socket,
          internalPort,
          previous?.externalPort ?? internalPort,
          lifetimeSeconds,
          signal,
        );
        return {
          externalAddress,
          externalPort: answer.externalPort,
          lifetimeSeconds: answer.lifetimeSeconds,
        };
      }),
    unmap: (internalPort, _grant, signal) =>
      withSocket(ctx.openSocket, async (socket) => {
        // RFC 6886 section 3.4: suggested external port and lifetime 0 delete the mapping.
        await mapRequest(socket, internalPort, 0, 0, signal);
      }),
  };
}

/** Description of our UPnP mappings, as the gateway lists them. */
export const UPNP_DESCRIPTION = "tunnel";
const UPNP_CONFLICT_RETRIES = 3;

/** UPnP IGD: SSDP discovery, the device description, then SOAP on the WAN service. */
export function upnpClient(ctx: ClientContext): MappingClient {
  let service: WanService | undefined;
  const net = {
    gateway: ctx.gateway,
    localAddress: ctx.localAddress,
    prefixLength: ctx.prefixLength,
  };

  const discover = (signal: AbortSignal) =>
    withSocket(ctx.openSocket, async (socket) => {
      const target = ctx.ssdpTarget ?? SSDP_ADDRESS;
      const search = () => {
        for (const st of IGD_SEARCH_TARGETS) socket.send(encodeMSearch(st), target).catch(() => {});
      };
      search();
      // Once more after a second (MX is 1 s): one lost datagram must not cost the protocol.
      const again = setTimeout(search, 1_000);
      let timedOut = false;
      const onAbort = () => {
        timedOut = true;
        socket.close();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        for (let seen = 0; seen < 64; seen++) {
          let datagram;
          try {
            datagram = await socket.receive(SSDP_MAX_ANSWER);
          } catch (error) {
            if (timedOut) throw new PortMapError("UPnP: no IGD answered the SSDP search in time");
            throw new PortMapError(
              `UPnP: SSDP receive failed: ${(error as Error).message.split("\n")[0]}`,
            );
          }
          try {
            const { location } = parseSsdpAnswer(datagram.data, net);
            if (location.hostname !== datagram.from.hostname) {
              throw new PortMapError(
                `SSDP answer from ${datagram.from.hostname} points at ${location.hostname}`,
              );
            }
            return location;
          } catch (error) {
            if (!(error instanceof PortMapError)) throw error;
            ctx.onIgnored(
              `UPnP: ignored an SSDP answer from ${datagram.from.hostname}: ${error.message}`,
            );
          }
        }
        throw new PortMapError("UPnP: 64 bad SSDP answers, giving up");
      } finally {
        clearTimeout(again);
        signal.removeEventListener("abort", onAbort);
      }
    });

  const soap = async (request: SoapRequest, action: string, signal: AbortSignal) => {
    const answer = await ctx.http({
      method: "POST",
      url: service!.controlUrl,
      headers: { "Content-Type": 'text/xml; charset="utf-8"', SOAPAction: request.soapAction },
      body: request.body,
      maxBytes: IGD_MAX_SOAP_ANSWER + 8192,
      signal,
    });
    return parseSoapAnswer(answer.status, answer.body, action);
  };

  const findService = async (signal: AbortSignal) => {
    if (service) return service;
    const location = await discover(signal);
    const description = await ctx.http({
      method: "GET",
      url: location,
      maxBytes: IGD_MAX_DESCRIPTION + 8192,
      signal,
    });
    if (description.status !== 200) {
      throw new PortMapError(`UPnP: device description HTTP ${description.status}`);
    }
    service = findWanService(description.body, location);
    return service;
  };

  const add = async (
    internalPort: number,
    externalPort: number,
    lease: number,
    signal: AbortSignal,
  ) => {
    await soap(
      soapAddPortMapping(service!.serviceType, {
        externalPort,
        internalPort,
        internalClient: ctx.localAddress,
        description: UPNP_DESCRIPTION,
        leaseSeconds: lease,
      }),
      "AddPortMapping",
      signal,
    );
  };

  return {
    protocol: "upnp",
    map: async (internalPort, lifetimeSeconds, previous, signal) => {
      await findService(signal);
      const externalAddress = externalAddressOf(
        await soap(soapGetExternalAddress(service!.serviceType), "GetExternalIPAddress", signal),
      );
      checkExternal(externalAddress, "UPnP GetExternalIPAddress");
      let externalPort = previous?.externalPort ?? internalPort;
      let lease = lifetimeSeconds;
      for (let attempt = 0;; attempt++) {
        try {
          await add(internalPort, externalPort, lease, signal);
          return { externalAddress, externalPort, lifetimeSeconds: lease };
        } catch (error) {
          if (!(error instanceof SoapFault) || attempt >= UPNP_CONFLICT_RETRIES) throw error;
          if (error.code === UPNP_ONLY_PERMANENT && lease !== 0) lease = 0;
          else if (error.code === UPNP_CONFLICT) {
            externalPort = 1024 + Math.floor(Math.random() * 64_000);
          } else throw error;
        }
      }
    },
    unmap: async (_internalPort, grant, signal) => {
      if (!service) return;
      await soap(
        soapDeletePortMapping(service.serviceType, grant.externalPort),
        "DeletePortMapping",
        signal,
      );
    },
  };
}
