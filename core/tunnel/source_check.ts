/**
 * The check every forwarding request passes: parse the source, resolve it,
 * keep only the addresses the allowlist of its protocol contains.
 * @module
 */
import type { AllowList } from "./allow_list.ts";
import { resolveAllowed, type Resolver } from "./resolver.ts";
import type { ServiceDecision } from "./service.ts";
import { formatSource, parseSource, type Source, type SourceProtocol } from "./source.ts";

/** What an accepted source request grants: the source and the addresses that passed. */
export interface SourceGrant {
  /** The parsed source. */
  source: Source;
  /** Resolved addresses inside the allowed networks; only these are dialed. */
  addresses: string[];
}

/**
 * Parses `request` as a `protocol` source, resolves it and checks it against
 * `allowList`. Never throws: a refusal carries the reason for the client.
 */
export async function checkSource(
  request: string,
  protocol: SourceProtocol,
  allowList: AllowList,
  resolve: Resolver,
): Promise<ServiceDecision<SourceGrant>> {
  let source: Source;
  try {
    source = parseSource(request);
  } catch (error) {
    return { accepted: false, reason: (error as Error).message };
  }
  if (source.protocol !== protocol) {
    return { accepted: false, reason: `not a ${protocol.toUpperCase()} source: ${request}` };
  }
  if (allowList.networks.length === 0) {
    return { accepted: false, reason: `server allows no ${protocol.toUpperCase()} sources` };
  }
  const check = await resolveAllowed(source.host, allowList, resolve);
  if (!check.allowed) return { accepted: false, reason: check.reason };
  return {
    accepted: true,
    grant: { source, addresses: check.addresses },
    description: `${formatSource(source)} (${check.addresses.join(", ")})`,
  };
}
