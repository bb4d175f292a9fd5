/**
 * One session over several connections to the same peer (a relayed one and,
 * once hole punching succeeds, a direct one). New streams and datagrams take
 * the best path of a {@linkcode PathTable}; streams already open stay on
 * theirs until they end; the session lives while any path does, and while
 * its peer answers ({@linkcode Liveness}: silence counts only while this
 * side's link to the peer is up). Probing is the caller's: it reports answers
 * with `heard()` and asks `checkLiveness()` as time passes.
 * @module
 */
import { AsyncQueue } from "./async_queue.ts";
import { CloseCode, type CloseInfo, type DuplexStream, type PeerConnection } from "./connection.ts";
import { Liveness } from "./liveness.ts";
import { linkOf } from "./path_link.ts";
import { type PathInfo, type PathKind, PathTable } from "./path_table.ts";

/** Datagrams received and not yet read, from all paths together. */
const MAX_QUEUED_DATAGRAMS = 1_024;

/** How a path is described. */
export interface PathOptions {
  /** Its kind (see path_kind.ts). */
  kind: PathKind;
  /** The address or relay URL, for people. */
  label: string;
}

/** Options of {@linkcode MultipathConnection}. */
export interface MultipathOptions {
  /** Told each time the path new traffic takes changes (not when the last one closes). */
  onPathChange?(path: PathInfo): void;
  /** The clock (ms); injected in tests. */
  now?: () => number;
}

/** A {@linkcode PeerConnection} over every path to one peer. */
export class MultipathConnection implements PeerConnection {
  readonly #table = new PathTable();
  readonly #conns = new Map<number, PeerConnection>();
  readonly #streams = new AsyncQueue<DuplexStream>();
  readonly #datagrams = new AsyncQueue<Uint8Array>();
  readonly #closed = Promise.withResolvers<CloseInfo>();
  readonly #options: MultipathOptions;
  readonly #now: () => number;
  readonly #liveness: Liveness;
  /** Per path with a link of ours under it: what stops watching it. */
  readonly #unwatch = new Map<number, () => void>();
  #current: number | undefined;
  /**
   * The connection of `#current`, kept so the per-packet calls (datagrams,
   * their size limit) read one field instead of ranking the paths. The probes
   * call `heard()` every second, which re-ranks them.
   */
  #currentConn: PeerConnection | undefined;
  #currentSince = 0;
  #ended = false;
  /** Datagrams dropped because nobody read them in time. */
  droppedDatagrams = 0;

  /**
   * Starts with one path.
   * @param first the connection the session was made on
   * @param path how it reaches the peer
   * @param options path change callback and clock
   */
  constructor(first: PeerConnection, path: PathOptions, options: MultipathOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#liveness = new Liveness(this.#now());
    this.addPath(first, path);
  }

  /** Adds a path; its streams and datagrams join the session's. Returns its id. */
  addPath(conn: PeerConnection, path: PathOptions): number {
    if (this.#ended) {
      conn.close({ code: 0, reason: "the session has ended" });
      return -1;
    }
    const id = this.#table.add(path.kind, path.label, this.#now());
    this.#conns.set(id, conn);
    const link = linkOf(conn);
    if (link) this.#unwatch.set(id, link.watch(() => this.#linkChanged()));
    // A path joins only once the peer has answered on it.
    this.#liveness.heard(this.#now());
    this.#linkChanged();
    this.#pump(id, conn);
    this.refresh();
    return id;
  }

  /** The path `id` answered a probe, after `rttMs` when known. */
  heard(id: number, rttMs?: number): void {
    if (!this.#conns.has(id)) return;
    this.#table.heard(id, this.#now(), rttMs);
    this.#liveness.heard(this.#now(), rttMs);
    this.refresh();
  }

  /** Whether this side's link to the peer is up: a path needing no link of ours, or one whose link is up. */
  get linkUp(): boolean {
    for (const conn of this.#conns.values()) if (linkOf(conn)?.up ?? true) return true;
    return false;
  }

  /**
   * Ends the session when its peer counts as gone (see {@linkcode Liveness});
   * returns why, or `undefined` while it may still be there. Call it as time
   * passes (every few hundred milliseconds).
   */
  checkLiveness(): string | undefined {
    if (this.#ended) return undefined;
    const reason = this.#liveness.check(this.#now());
    if (reason) this.close({ code: CloseCode.Done, reason });
    return reason;
  }

  #linkChanged(): void {
    if (this.#conns.size > 0) this.#liveness.linkChanged(this.linkUp, this.#now());
  }

  /** Re-evaluates which path new traffic takes (call it as time passes). */
  refresh(): void {
    const best = this.#table.best(this.#now());
    if (!best || best.id === this.#current) return;
    this.#current = best.id;
    this.#currentConn = this.#conns.get(best.id);
    this.#currentSince = this.#now();
    this.#options.onPathChange?.(best);
  }

  /** Every path now. */
  paths(): PathInfo[] {
    return this.#table.list(this.#now());
  }

  /** The path new traffic takes now. */
  get currentPath(): PathInfo | undefined {
    return this.#table.best(this.#now());
  }

  /** When new traffic last moved to another path (the clock of the options). */
  get currentSince(): number {
    return this.#currentSince;
  }

  /** The connection of path `id`, while it is open. */
  connectionOf(id: number): PeerConnection | undefined {
    return this.#conns.get(id);
  }

  #best(): PeerConnection {
    if (!this.#currentConn) throw new Error("the connection is closed");
    return this.#currentConn;
  }

  #pump(id: number, conn: PeerConnection): void {
    (async () => {
      for (;;) {
        const stream = await conn.acceptStream();
        if (!stream) return;
        this.#streams.push(stream);
      }
    })().catch(() => {});
    (async () => {
      for (;;) {
        const datagram = await conn.readDatagram();
        if (!datagram) return;
        if (this.#datagrams.size >= MAX_QUEUED_DATAGRAMS) this.droppedDatagrams++;
        else this.#datagrams.push(datagram);
      }
    })().catch(() => {});
    conn.closed.then((info) => {
      this.#conns.delete(id);
      this.#table.remove(id);
      this.#unwatch.get(id)?.();
      this.#unwatch.delete(id);
      this.#linkChanged();
      if (this.#current === id) this.#current = this.#currentConn = undefined;
      if (this.#conns.size === 0) this.#end(info);
      else if (info.code > 0) {
        // A close with a code (refused, broken protocol, shutting down) ends the session,
        // not the path: the other paths go with it, though a relay may be away and
        // never carry their own close.
        for (const other of [...this.#conns.values()]) other.close(info);
        this.#end(info);
      } else this.refresh();
    });
  }

  #end(info: CloseInfo): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#current = this.#currentConn = undefined;
    this.#streams.end();
    this.#datagrams.end();
    this.#closed.resolve(info);
  }

  get remoteAddr(): { hostname: string; port: number } {
    return this.#currentConn?.remoteAddr ?? { hostname: "", port: 0 };
  }

  async openStream(): Promise<DuplexStream> {
    return await this.#best().openStream();
  }

  acceptStream(): Promise<DuplexStream | null> {
    return this.#streams.shift();
  }

  get maxDatagramSize(): number {
    return this.#currentConn?.maxDatagramSize ?? 0;
  }

  async sendDatagram(data: Uint8Array): Promise<void> {
    await this.#best().sendDatagram(data);
  }

  readDatagram(): Promise<Uint8Array | null> {
    return this.#datagrams.shift();
  }

  close(info?: CloseInfo): void {
    for (const conn of [...this.#conns.values()]) conn.close(info);
  }

  get closed(): Promise<CloseInfo> {
    return this.#closed.promise;
  }
}
