/**
 * UPnP IGD: finding the WAN connection service in a device description, and the SOAP
 * envelopes of GetExternalIPAddress, AddPortMapping and DeletePortMapping. Sans-IO; a small
 * bounded scanner instead of an XML library (the documents are tiny and only a few
 * elements matter).
 * @module
 */
import { GatewayRefusal, PortMapError } from "./errors.ts";

/** Largest device description read; miniupnpd's is about 4 KiB. */
export const IGD_MAX_DESCRIPTION = 64 * 1024;
/** Largest SOAP answer read. */
export const IGD_MAX_SOAP_ANSWER = 16 * 1024;
/** Most `<service>` elements looked at in one description. */
export const IGD_MAX_SERVICES = 64;

/** Service types that can map ports, best first. */
export const WAN_SERVICE_TYPES = [
  "urn:schemas-upnp-org:service:WANIPConnection:2",
  "urn:schemas-upnp-org:service:WANIPConnection:1",
  "urn:schemas-upnp-org:service:WANPPPConnection:1",
] as const;

/** The service to send SOAP actions to. */
export interface WanService {
  serviceType: string;
  /** Absolute control URL (same scheme, host and port as the description). */
  controlUrl: URL;
}

const ENTITIES: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&amp;": "&",
  "&quot;": '"',
  "&apos;": "'",
};

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos);/g, (e) => ENTITIES[e]);
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
  );
}

/**
 * Text of the first `<name>` element (any namespace prefix) inside `xml`, or undefined.
 * Linear: one indexOf pass per call, no backtracking regular expression.
 */
function elementText(xml: string, name: string): string | undefined {
  const pattern = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${name}(?:\\s[^<>]*)?>`, "g");
  const open = pattern.exec(xml);
  if (!open) return undefined;
  const start = open.index + open[0].length;
  const close = xml.indexOf("</", start);
  if (close < 0) return undefined;
  return unescapeXml(xml.slice(start, close).trim());
}

/** The `<service>...</service>` blocks of a description, at most {@link IGD_MAX_SERVICES}. */
function serviceBlocks(xml: string): string[] {
  const blocks: string[] = [];
  let from = 0;
  while (blocks.length < IGD_MAX_SERVICES) {
    const open = xml.indexOf("<service>", from);
    if (open < 0) break;
    const close = xml.indexOf("</service>", open);
    if (close < 0) break;
    blocks.push(xml.slice(open + 9, close));
    from = close + 10;
  }
  return blocks;
}

/**
 * Finds the best WAN connection service in a device description fetched from `location`.
 * The control URL is resolved against URLBase or `location` and must stay on the same
 * http host and port: a description cannot send our SOAP requests elsewhere.
 */
export function findWanService(description: string, location: URL): WanService {
  if (description.length > IGD_MAX_DESCRIPTION) {
    throw new PortMapError(
      `device description of ${description.length} bytes (limit ${IGD_MAX_DESCRIPTION})`,
    );
  }
  const services = serviceBlocks(description).map((block) => ({
    type: elementText(block, "serviceType") ?? "",
    control: elementText(block, "controlURL"),
  }));
  for (const wanted of WAN_SERVICE_TYPES) {
    const found = services.find((s) => s.type === wanted && s.control);
    if (!found) continue;
    const base = elementText(description, "URLBase");
    let controlUrl: URL;
    try {
      controlUrl = new URL(found.control!, base ? new URL(base, location) : location);
    } catch {
      throw new PortMapError(
        `controlURL is not a URL: ${JSON.stringify(found.control!.slice(0, 80))}`,
      );
    }
    if (controlUrl.protocol !== "http:" || controlUrl.host !== location.host) {
      throw new PortMapError(
        `controlURL ${controlUrl.href.slice(0, 80)} leaves the gateway ${location.host}`,
      );
    }
    return { serviceType: wanted, controlUrl };
  }
  throw new PortMapError("device description has no WANIPConnection or WANPPPConnection service");
}

/** A SOAP request: the SOAPAction header value and the body. */
export interface SoapRequest {
  soapAction: string;
  body: string;
}

function envelope(
  serviceType: string,
  action: string,
  args: [string, string | number][],
): SoapRequest {
  const inner = args.map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`).join("");
  return {
    soapAction: `"${serviceType}#${action}"`,
    body: '<?xml version="1.0"?>\r\n' +
      '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
      's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
      `<u:${action} xmlns:u="${serviceType}">${inner}</u:${action}>` +
      "</s:Body></s:Envelope>\r\n",
  };
}

/** GetExternalIPAddress. */
export function soapGetExternalAddress(serviceType: string): SoapRequest {
  return envelope(serviceType, "GetExternalIPAddress", []);
}

/** What AddPortMapping asks for (UDP, any remote host). */
export interface UpnpMapRequest {
  externalPort: number;
  internalPort: number;
  internalClient: string;
  description: string;
  /** NewLeaseDuration; 0 asks for a permanent mapping. */
  leaseSeconds: number;
}

/** AddPortMapping for UDP. */
export function soapAddPortMapping(serviceType: string, r: UpnpMapRequest): SoapRequest {
  return envelope(serviceType, "AddPortMapping", [
    ["NewRemoteHost", ""],
    ["NewExternalPort", r.externalPort],
    ["NewProtocol", "UDP"],
    ["NewInternalPort", r.internalPort],
    ["NewInternalClient", r.internalClient],
    ["NewEnabled", 1],
    ["NewPortMappingDescription", r.description],
    ["NewLeaseDuration", r.leaseSeconds],
  ]);
}

/** DeletePortMapping for UDP. */
export function soapDeletePortMapping(serviceType: string, externalPort: number): SoapRequest {
  return envelope(serviceType, "DeletePortMapping", [
    ["NewRemoteHost", ""],
    ["NewExternalPort", externalPort],
    ["NewProtocol", "UDP"],
  ]);
}

/** UPnP error codes a client acts on. */
export const UPNP_CONFLICT = 718;
/** The gateway only grants permanent leases: ask again with lease 0. */
export const UPNP_ONLY_PERMANENT = 725;

/** A SOAP fault from the gateway, with its UPnP errorCode when given. */
export class SoapFault extends GatewayRefusal {
  /** The UPnP `errorCode`, or undefined. */
  readonly code: number | undefined;
  /** Builds the fault error. */
  constructor(code: number | undefined, description: string) {
    super(`UPnP fault ${code ?? "(no code)"}: ${description.slice(0, 80) || "no description"}`);
    this.code = code;
  }
}

/**
 * Checks a SOAP answer: HTTP 200 with `<u:{action}Response>`, or a fault (HTTP 500 with
 * UPnPError) thrown as {@link SoapFault}. Returns the answer's text for field lookups.
 */
export function parseSoapAnswer(status: number, body: string, action: string): string {
  if (body.length > IGD_MAX_SOAP_ANSWER) {
    throw new PortMapError(`SOAP answer of ${body.length} bytes (limit ${IGD_MAX_SOAP_ANSWER})`);
  }
  if (status === 200) {
    if (!new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${action}Response[\\s>/]`).test(body)) {
      throw new PortMapError(`SOAP answer without ${action}Response`);
    }
    return body;
  }
  const code = elementText(body, "errorCode");
  if (status === 500 && code !== undefined) {
    const n = /^[0-9]{1,4}$/.test(code) ? Number(code) : undefined;
    throw new SoapFault(n, elementText(body, "errorDescription") ?? "");
  }
  throw new PortMapError(`SOAP ${action}: HTTP ${status}`);
}

/** The NewExternalIPAddress of a GetExternalIPAddress answer. */
export function externalAddressOf(answer: string): string {
  const address = elementText(answer, "NewExternalIPAddress");
  if (!address) throw new PortMapError("GetExternalIPAddress answer without an address");
  return address;
}
