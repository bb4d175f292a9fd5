/**
 * The one error type of port mapping: every parser and client throws only this, with a
 * one-line message naming what was wrong.
 * @module
 */

/** A refused, malformed or failed port-mapping exchange. `message` is one line. */
export class PortMapError extends Error {
  /** Builds the error; `message` must be a single line. */
  constructor(message: string) {
    super(message);
    this.name = "PortMapError";
  }
}

/**
 * The gateway answered properly and said no (a PCP/NAT-PMP result code, a SOAP fault):
 * the protocol is done, unlike a malformed answer, which is ignored while waiting on.
 */
export class GatewayRefusal extends PortMapError {
  /** Builds the refusal; `message` must be a single line. */
  constructor(message: string) {
    super(message);
    this.name = "GatewayRefusal";
  }
}
