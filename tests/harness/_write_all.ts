// Private to tests/harness: `Deno.Conn.write` may write fewer bytes than asked.

/** Anything with Deno's `write` contract. */
export interface Writer {
  write(p: Uint8Array): Promise<number>;
}

/** Writes every byte of `data`, looping over short writes. */
export async function writeAll(writer: Writer, data: Uint8Array): Promise<void> {
  let offset = 0;
  // Bounded: each turn writes at least one byte or throws.
  while (offset < data.length) {
    const n = await writer.write(data.subarray(offset));
    if (n <= 0) throw new Error("Cannot write: the writer accepted 0 bytes");
    offset += n;
  }
}
