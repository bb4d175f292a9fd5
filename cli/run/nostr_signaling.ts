/**
 * Opening nostr mode's signaling: every relay subscribed to the peer's events
 * for us, fed into a hub; start-up waits until at least one relay is live.
 * A relay's trouble (rate limits, closed subscriptions, refused events) is
 * said once per relay; the rest is for `-v`.
 * @module
 */
import { NostrRelaySet, SIGNAL_KIND, SignalingHub, transferId } from "../../core/nostr/mod.ts";
import type { Output } from "../output.ts";
import type { NostrIdentity } from "../settings/nostr_options.ts";

/** How long start-up waits for a first relay. */
const RELAY_READY_MS = 10_000;

/** The open signaling of one process. */
export interface NostrSignaling {
  hub: SignalingHub;
  relays: NostrRelaySet;
  close(): void;
}

/**
 * Subscribes on every relay and resolves once one is live.
 * @throws {Error} naming every relay tried when none can be reached.
 */
export async function openNostrSignaling(
  identity: NostrIdentity,
  out: Output,
): Promise<NostrSignaling> {
  const debug = { debug: (line: string) => out.debug(line) };
  const hub = new SignalingHub({
    secret: identity.secret,
    peer: identity.peer,
    bus: { publish: (event, copyOf) => relays.publish(event, copyOf) },
    log: debug,
  });
  const relays = NostrRelaySet.open({
    urls: identity.relays,
    filter: {
      kinds: [SIGNAL_KIND],
      authors: [identity.peer.hex],
      "#p": [identity.secret.publicKey.hex],
      "#t": [transferId(identity.secret.publicKey, identity.peer)],
    },
    onEvent: (event) => hub.receive(event),
    log: { ...debug, info: (line: string) => out.info(line) },
  });
  const close = () => {
    hub.close();
    relays.close();
  };
  try {
    await relays.ready(RELAY_READY_MS);
  } catch (error) {
    close();
    throw error;
  }
  out.info(`Nostr relays: ${relays.live.length} of ${identity.relays.length} connected`);
  return { hub, relays, close };
}
