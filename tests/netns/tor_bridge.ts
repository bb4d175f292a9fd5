/**
 * Byte bridges between the caller's loopback and the Unix sockets of the tors in the Tor
 * network's namespace. Unix sockets live in the file system, not in a network namespace,
 * which is how a tor with no network route at all still serves the caller's namespace.
 * @module
 */

/** A listener whose accepted connections are each joined to a freshly dialled one. */
export interface StreamBridge {
  /** The TCP port of a loopback listener (undefined for a Unix listener). */
  readonly port: number | undefined;
  /** Stops listening and closes every bridged connection. Idempotent. */
  close(): Promise<void>;
}

// Copies until EOF, then half-closes the other side so each direction ends on its own.
async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await from.read(buffer);
    if (n === null) break;
    let sent = 0;
    while (sent < n) sent += await to.write(buffer.subarray(sent, n));
  }
  await to.closeWrite();
}

/**
 * Accepts on `listener`; joins each connection to `dial()`'s. A failed dial closes the
 * accepted connection (its peer sees EOF, as if the target refused).
 */
export function bridge(listener: Deno.Listener, dial: () => Promise<Deno.Conn>): StreamBridge {
  const open = new Set<Deno.Conn>();
  const closeQuietly = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const join = async (accepted: Deno.Conn) => {
    open.add(accepted);
    let dialled: Deno.Conn;
    try {
      dialled = await dial();
    } catch {
      closeQuietly(accepted);
      return;
    }
    open.add(dialled);
    // Either direction failing (a reset) ends both.
    await Promise.all([copy(accepted, dialled), copy(dialled, accepted)]).catch(() => {});
    closeQuietly(accepted);
    closeQuietly(dialled);
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) join(conn);
    } catch { /* listener closed */ }
  })();
  const address = listener.addr;
  let closing: Promise<void> | undefined;
  return {
    port: address.transport === "tcp" ? address.port : undefined,
    close: () =>
      closing ??= (async () => {
        try {
          listener.close();
        } catch { /* already closed */ }
        await accepting;
        for (const conn of [...open]) closeQuietly(conn);
      })(),
  };
}

/** Listens on a Unix socket and accepts-then-closes every connection (probe answers). */
export function acceptAndClose(listener: Deno.Listener): StreamBridge {
  const accepting = (async () => {
    try {
      for await (const conn of listener) conn.close();
    } catch { /* listener closed */ }
  })();
  let closing: Promise<void> | undefined;
  return {
    port: undefined,
    close: () =>
      closing ??= (async () => {
        try {
          listener.close();
        } catch { /* already closed */ }
        await accepting;
      })(),
  };
}
