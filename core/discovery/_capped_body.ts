/**
 * Reading an HTTP body without ever holding more than a limit.
 * @module
 */

/**
 * Reads `body` whole if it has at most `maxBytes` bytes; past the limit it
 * cancels the stream and returns `undefined`. A missing body reads as empty.
 */
export async function _readCappedBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(maxBytes);
  let length = 0;
  if (!body) return out.subarray(0, 0);
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out.subarray(0, length);
      if (length + value.length > maxBytes) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      out.set(value, length);
      length += value.length;
    }
  } finally {
    reader.releaseLock();
  }
}
