/**
 * A SOCKS5 proxy for tests, on 127.0.0.1: CONNECT with no authentication or
 * username/password, names resolved only through the test's own table (never
 * DNS: a name missing from it gets "host unreachable"), every request recorded,
 * and ways to misbehave (silence at a step, a chosen reply code).
 * @module
 */

/** A CONNECT request the proxy received. */
export interface RecordedRequest {
  /** 1 (IPv4), 3 (name) or 4 (IPv6), as the client sent it. */
  addressType: number;
  /** The name or address as sent. */
  hostname: string;
  /** The destination port. */
  port: number;
  /** The RFC 1929 username, when the client authenticated. */
  username?: string;
}

/** Options of {@linkcode startTestSocks5Server}. */
export interface TestSocks5ServerOptions {
  /** Names the proxy "resolves" to 127.0.0.1 addresses (`name` -> `127.0.0.1`). */
  hosts?: Record<string, string>;
  /** Demand username/password with these. */
  credentials?: { username: string; password: string };
  /** Say nothing after accepting, after the greeting, or after the CONNECT. */
  silentAfter?: "accept" | "greeting" | "request";
  /** Answer every CONNECT with this failure code. */
  replyCode?: number;
}

/** A running test proxy. */
export interface TestSocks5Server extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** The CONNECT requests received, in order. */
  readonly requests: RecordedRequest[];
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Ends every connection open now and keeps listening (a proxy restart, a dropped circuit). */
  dropConnections(): void;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** Starts a test SOCKS5 proxy on 127.0.0.1 and a free port. */
export function startTestSocks5Server(options: TestSocks5ServerOptions = {}): TestSocks5Server {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: RecordedRequest[] = [];
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let accepted = 0;
  const track = (conn: Deno.Conn) => {
    open.add(conn);
    return conn;
  };
  const closeConn = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch { /* closed */ }
  };
  const serve = async (client: Deno.Conn) => {
    const read = exactReader(client);
    let target: Deno.Conn | undefined;
    try {
      if (options.silentAfter === "accept") return await hold(client);
      const [version, count] = await read(2);
      const methods = await read(count);
      if (version !== 5) return;
      const wanted = options.credentials ? 2 : 0;
      if (!methods.includes(wanted)) return await writeAll(client, Uint8Array.of(5, 0xff));
      await writeAll(client, Uint8Array.of(5, wanted));
      if (options.silentAfter === "greeting") return await hold(client);
      let username: string | undefined;
      if (options.credentials) {
        const [, ulen] = await read(2);
        username = new TextDecoder().decode(await read(ulen));
        const [plen] = await read(1);
        const password = new TextDecoder().decode(await read(plen));
        const ok = username === options.credentials.username &&
          password === options.credentials.password;
        await writeAll(client, Uint8Array.of(1, ok ? 0 : 1));
        if (!ok) return;
      }
      const [, command, , type] = await read(4);
      let hostname: string;
      if (type === 1) hostname = [...await read(4)].join(".");
      else if (type === 3) hostname = new TextDecoder().decode(await read((await read(1))[0]));
      else {
        const raw = await read(16);
        hostname = Array.from(
          { length: 8 },
          (_, i) => ((raw[2 * i] << 8) | raw[2 * i + 1]).toString(16),
        )
          .join(":");
      }
      const portBytes = await read(2);
      const port = (portBytes[0] << 8) | portBytes[1];
      requests.push({ addressType: type, hostname, port, username });
      if (options.silentAfter === "request") return await hold(client);
      const reply = (code: number) =>
        writeAll(client, Uint8Array.of(5, code, 0, 1, 0, 0, 0, 0, 0, 0));
      if (command !== 1) return await reply(7);
      if (options.replyCode !== undefined) return await reply(options.replyCode);
      const address = type === 3 ? options.hosts?.[hostname] : hostname;
      if (address === undefined) return await reply(4);
      try {
        target = track(await Deno.connect({ hostname: address, port }));
      } catch {
        return await reply(5);
      }
      const bound = target.localAddr as Deno.NetAddr;
      await writeAll(
        client,
        Uint8Array.of(
          5,
          0,
          0,
          1,
          ...bound.hostname.split(".").map(Number),
          bound.port >> 8,
          bound.port & 0xff,
        ),
      );
      const up = client.readable.pipeTo(target.writable).catch(() => {});
      const down = target.readable.pipeTo(client.writable).catch(() => {});
      await Promise.race([up, down]);
    } catch {
      // The client left, or the test closed the proxy.
    } finally {
      if (target) closeConn(target);
      closeConn(client);
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        const task = serve(track(conn));
        tasks.add(task);
        task.finally(() => tasks.delete(task));
      }
    } catch { /* closed */ }
  })();
  const close = async () => {
    try {
      listener.close();
    } catch { /* closed */ }
    for (const conn of [...open]) closeConn(conn);
    await accepting;
    await Promise.allSettled([...tasks]);
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    requests,
    get accepted() {
      return accepted;
    },
    dropConnections() {
      for (const conn of [...open]) closeConn(conn);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Waits until the peer closes, reading and dropping what it sends: a proxy that says nothing. */
async function hold(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(1024);
  while ((await conn.read(buffer)) !== null) { /* dropped */ }
}

function exactReader(conn: Deno.Conn): (n: number) => Promise<Uint8Array> {
  return async (n) => {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n;) {
      const got = await conn.read(out.subarray(filled));
      if (got === null) throw new Error("closed");
      filled += got;
    }
    return out;
  };
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length;) offset += await conn.write(data.subarray(offset));
}
