/**
 * The seam between making a connection and the medium that carries its
 * signaling: copy-paste (manual mode), Nostr events, a relay. Establishment
 * code sends one message and receives one through it, never knowing how.
 * @module
 */
import type { EndpointId } from "../identity/mod.ts";
import type { RemoteIceParameters } from "../nat/mod.ts";

/** Sends one message to the peer and receives one from it, by whatever medium. */
export interface SignalingChannel<Send, Receive> {
  /** Delivers `message` to the peer (prints it, publishes it, ...). */
  send(message: Send): Promise<void>;
  /**
   * The peer's message. Rejects when the medium ends, times out, or the peer
   * refused (the channel knows the mode's refusal format and says why).
   */
  receive(): Promise<Receive>;
}

/** What the dialing side tells the accepting side: its ICE parameters. */
export interface IceOffer {
  /** ICE credentials and candidates of the dialing side. */
  ice: RemoteIceParameters;
}

/** What the accepting side answers: its ICE parameters and the key QUIC is pinned to. */
export interface IceAnswer {
  /** ICE credentials and candidates of the accepting side. */
  ice: RemoteIceParameters;
  /** The key the accepting side's QUIC endpoint presents. */
  serverId: EndpointId;
}
