/**
 * The link under a path, for paths carried by something of ours that can be
 * away for a while (a relay connection reconnecting): a session on such a
 * path tells "my link is down" from "my peer is silent" by it. A path without
 * one (direct QUIC) has no carrier of ours to lose: its link is always up.
 * @module
 */
import type { CloseInfo, DuplexStream, PeerConnection } from "./connection.ts";

/** Whether this side's link carrying a path is up, and its changes. */
export interface PathLink {
  /** Up now. */
  readonly up: boolean;
  /** Calls `listener` with each change; returns what stops it. */
  watch(listener: (up: boolean) => void): () => void;
}

/** A {@linkcode PathLink} set by its owner (a relay client's state changes). */
export class LinkState implements PathLink {
  #up: boolean;
  readonly #listeners = new Set<(up: boolean) => void>();

  /** Starts `up` (default true). */
  constructor(up = true) {
    this.#up = up;
  }

  /** Up now. */
  get up(): boolean {
    return this.#up;
  }

  /** Records a change and tells every listener (nothing when it is no change). */
  set(up: boolean): void {
    if (up === this.#up) return;
    this.#up = up;
    for (const listener of [...this.#listeners]) listener(up);
  }

  /** Calls `listener` with each change; returns what stops it. */
  watch(listener: (up: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Listeners now (a closed path must not leave one behind). */
  get listeners(): number {
    return this.#listeners.size;
  }
}

/** A {@linkcode PeerConnection} whose path has a link of ours under it. */
export interface LinkedConnection extends PeerConnection {
  /** The link carrying the path. */
  readonly link: PathLink;
}

/** The link under `conn`'s path, when it has one (else the path needs none: always up). */
export function linkOf(conn: PeerConnection): PathLink | undefined {
  return (conn as Partial<LinkedConnection>).link;
}

/** `conn`, its path carried by `link`; everything else is `conn`'s. */
export function withLink(conn: PeerConnection, link: PathLink): LinkedConnection {
  return new LinkedPeerConnection(conn, link);
}

class LinkedPeerConnection implements LinkedConnection {
  readonly #conn: PeerConnection;
  readonly link: PathLink;

  constructor(conn: PeerConnection, link: PathLink) {
    this.#conn = conn;
    this.link = link;
  }

  get remoteAddr(): { hostname: string; port: number } {
    return this.#conn.remoteAddr;
  }

  get maxDatagramSize(): number {
    return this.#conn.maxDatagramSize;
  }

  get closed(): Promise<CloseInfo> {
    return this.#conn.closed;
  }

  openStream(): Promise<DuplexStream> {
    return this.#conn.openStream();
  }

  acceptStream(): Promise<DuplexStream | null> {
    return this.#conn.acceptStream();
  }

  sendDatagram(data: Uint8Array): Promise<void> {
    return this.#conn.sendDatagram(data);
  }

  readDatagram(): Promise<Uint8Array | null> {
    return this.#conn.readDatagram();
  }

  close(info?: CloseInfo): void {
    this.#conn.close(info);
  }
}
