/**
 * The smallest STUN (RFC 8489) Binding exchange: build a request, read the mapped address
 * from the success response. Used to check what coturn sees through a bed's NAT.
 * @module
 */

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;
const MAPPED_ADDRESS = 0x0001;

/** A Binding Request with no attributes; `transactionId` must be 12 random bytes. */
export function bindingRequest(transactionId: Uint8Array): Uint8Array {
  const msg = new Uint8Array(20);
  const view = new DataView(msg.buffer);
  view.setUint16(0, BINDING_REQUEST);
  view.setUint32(4, MAGIC_COOKIE);
  msg.set(transactionId, 8);
  return msg;
}

/**
 * The IPv4 address (`"ip:port"`) reported by a Binding success response to
 * `transactionId`, or undefined when `msg` is something else. XOR-MAPPED-ADDRESS wins
 * over the legacy MAPPED-ADDRESS.
 */
export function parseBindingResponse(
  msg: Uint8Array,
  transactionId: Uint8Array,
): string | undefined {
  if (msg.length < 20) return undefined;
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (view.getUint16(0) !== BINDING_SUCCESS || view.getUint32(4) !== MAGIC_COOKIE) return undefined;
  if (!transactionId.every((b, i) => msg[8 + i] === b)) return undefined;
  const end = Math.min(msg.length, 20 + view.getUint16(2));
  let legacy: string | undefined;
  for (let at = 20; at + 4 <= end;) {
    const type = view.getUint16(at);
    const length = view.getUint16(at + 2);
    const value = at + 4;
    // Family 0x01 is IPv4: 1 reserved byte, family, port, 4 address bytes.
    if (value + 8 <= end && view.getUint8(value + 1) === 0x01) {
      const port = view.getUint16(value + 2);
      const addr = view.getUint32(value + 4);
      if (type === XOR_MAPPED_ADDRESS) {
        return formatAddress((addr ^ MAGIC_COOKIE) >>> 0, port ^ (MAGIC_COOKIE >>> 16));
      }
      if (type === MAPPED_ADDRESS) legacy = formatAddress(addr, port);
    }
    at = value + Math.ceil(length / 4) * 4; // attributes are padded to 4 bytes
  }
  return legacy;
}

function formatAddress(addr: number, port: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}:${port}`;
}
