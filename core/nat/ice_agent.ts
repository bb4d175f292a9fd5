/**
 * An ICE agent (werift-ice inside) whose result is a UDP path a QUIC endpoint
 * can take over.
 *
 * How werift binds: one node:dgram socket per host address, each bound to the
 * wildcard address (`0.0.0.0`, or `::` for IPv6) on a random port; the host
 * candidate advertises the interface address with that port. Releasing the
 * path closes every socket, so `new Deno.QuicEndpoint({ hostname: bindAddress,
 * port: bindPort })` can bind the same port right after; the NAT mapping the
 * peer reaches lives in the NAT, not in the socket.
 *
 * Things werift would do that we switch off: gather from Google's STUN server
 * when given none (the constructor fills it in; `_createConnection` clears it),
 * resolve `.local` candidates over multicast DNS (`validateCandidate` rejects
 * non-literal addresses before werift sees them), enumerate interfaces with
 * its own filters (`_host_addresses.ts`). Its `connect()` promise is not used
 * to detect success: its completion queue can drop the "completed" signal when
 * a failure and a success are queued in the same tick, so we poll `nominated`.
 *
 * @module
 */

import type { Connection, StunProtocol } from "werift-ice";
import {
  type IceCandidate,
  type IceCredentials,
  validateCandidate,
  validateCredentials,
} from "./ice_candidate.ts";
import { IceFailedError } from "./ice_failed_error.ts";
import { connectionTypeOf, type NominatedPath, type PathEnd } from "./nominated_path.ts";
import { type _ConfirmedPath, _ConnectSession } from "./_connect_session.ts";
import { _hostAddresses, _isLoopback } from "./_host_addresses.ts";
import { _decodeReady, _isReadyDatagram, type _ReadyMessage } from "./_ready_message.ts";
import { _gatherServerReflexive, _parseStunServer } from "./_server_reflexive.ts";
import {
  type _Address,
  _boundAddress,
  _checkBindPermission,
  _createConnection,
  _hostCandidateOf,
  _interceptDatagrams,
  _loadWerift,
  _protocolsOf,
  _recheckFailedPairs,
  _toWeriftCandidate,
  type _Werift,
} from "./_werift.ts";
import { isIP } from "node:net";

/** Options of {@linkcode IceAgent.gather}. */
export interface IceGatherOptions {
  /** ICE role: the controlling agent picks the path. One peer must take each role. */
  role: "controlling" | "controlled";
  /** STUN servers as `host:port` (`[v6]:port`; port 3478 if omitted). Empty: host
   * candidates only, and then nothing is sent anywhere except to the peer's candidates. */
  stunServers: string[];
  /** Aborts gathering; the promise rejects with the signal's reason and all sockets are closed. */
  signal?: AbortSignal;
  /** Also offer loopback addresses (127.0.0.1, ::1) as host candidates: for two agents on
   * one machine (tests). Loopback only ever pairs with loopback. Default false. */
  includeLoopback?: boolean;
  /** Use exactly these literal IP addresses as host candidates instead of listing the
   * interfaces (then `--allow-sys=networkInterfaces` is not needed). */
  hostAddresses?: string[];
  /**
   * Addresses no path may use, true to avoid: interface addresses are not
   * offered, and the peer's candidates there are not tried. For a VPN: its own
   * network and routes, where a path would run inside the tunnel it carries.
   * Not applied to `hostAddresses`.
   */
  avoidAddress?: (address: string) => boolean;
  /**
   * More candidates for the agent's sockets, asked alongside STUN once they are
   * bound: e.g. a port mapping the router grants for one of them. Each must be
   * an srflx candidate whose related address and port name its socket. A
   * source that throws adds nothing. `reflexiveDone` settles when STUN is
   * done, for a source that should not hold gathering up much longer.
   */
  candidateSource?: (
    sockets: readonly IceSocketAddress[],
    reflexiveDone: Promise<void>,
  ) => Promise<IceCandidate[]>;
}

/** A socket of the agent: the interface address a host candidate offers, and its port. */
export interface IceSocketAddress {
  /** The interface address. */
  address: string;
  /** The socket's UDP port. */
  port: number;
}

/** What the peer sent through signaling. */
export interface RemoteIceParameters {
  /** The peer's ufrag and password. */
  credentials: IceCredentials;
  /** The peer's candidates. Unusable ones (non-literal address, TCP, prflx) are skipped. */
  candidates: IceCandidate[];
}

/** Options of {@linkcode IceAgent.connect}. */
export interface IceConnectOptions {
  /** Give up (IceFailedError) when no path is confirmed by both sides within this time. */
  timeoutMs: number;
  /** Aborts the attempt; connect rejects with the signal's reason and all sockets are closed. */
  signal?: AbortSignal;
}

/** Holds READYs that arrive before `connect()` (the peer may nominate first). */
const INBOX_LIMIT = 16;

/**
 * One ICE session: gather candidates, exchange them with the peer through
 * signaling, `connect()` to get a confirmed path, `release()` it, and bind QUIC.
 *
 * @example
 * ```ts
 * const agent = await IceAgent.gather({ role: "controlling", stunServers: ["stun.example.net:3478"] });
 * sendToPeer({ credentials: agent.localCredentials, candidates: agent.localCandidates });
 * const path = await agent.connect(await receiveFromPeer(), { timeoutMs: 30_000 });
 * await path.release();
 * const endpoint = new Deno.QuicEndpoint({ hostname: path.bindAddress, port: path.bindPort });
 * ```
 */
export class IceAgent {
  /** This agent's ufrag and password, to send to the peer. */
  readonly localCredentials: IceCredentials;
  /** This agent's candidates (host, then server-reflexive), to send to the peer. */
  readonly localCandidates: IceCandidate[];
  /** The role given to {@linkcode IceAgent.gather}. */
  readonly role: "controlling" | "controlled";
  readonly #werift: _Werift;
  readonly #connection: Connection;
  readonly #inbox: { protocol: StunProtocol; from: _Address; message: _ReadyMessage }[] = [];
  #session: _ConnectSession | undefined;
  #closing: Promise<void> | undefined;

  readonly #avoid: (address: string) => boolean;

  private constructor(
    werift: _Werift,
    connection: Connection,
    role: "controlling" | "controlled",
    candidates: IceCandidate[],
    avoid: (address: string) => boolean,
  ) {
    this.#avoid = avoid;
    this.#werift = werift;
    this.#connection = connection;
    this.role = role;
    this.localCredentials = { ufrag: connection.localUsername, pwd: connection.localPassword };
    this.localCandidates = candidates;
    for (const protocol of _protocolsOf(connection)) {
      _interceptDatagrams(protocol, _isReadyDatagram, (data, from) => {
        const message = _decodeReady(data);
        if (message) this.#received(protocol, from, message);
      });
    }
  }

  /**
   * Opens one UDP socket per host address and learns server-reflexive
   * addresses from the STUN servers.
   *
   * Permissions: `--allow-net` (sockets on 0.0.0.0 / [::], then sends to STUN
   * servers and the peer), `--allow-sys=networkInterfaces` unless
   * `hostAddresses` is given, and env access to load werift (`--allow-env`, or
   * `--ignore-env`).
   *
   * @throws {TypeError} when a STUN server or host address is malformed.
   * @throws {Deno.errors.NotCapable} when a permission above is missing.
   * @throws {Error} when no host address is usable (all loopback or link-local).
   */
  static async gather(options: IceGatherOptions): Promise<IceAgent> {
    const { signal } = options;
    signal?.throwIfAborted();
    const stunServers = options.stunServers.map(_parseStunServer);
    const skip = options.avoidAddress ?? (() => false);
    const hostAddresses = options.hostAddresses ??
      _hostAddresses({ includeLoopback: options.includeLoopback ?? false })
        .filter((address) => !skip(address));
    for (const address of hostAddresses) {
      if (isIP(address) === 0) {
        throw new TypeError(`Cannot use host address "${address}": not a literal IP address`);
      }
    }
    if (hostAddresses.length === 0) {
      throw new Error(
        "Cannot gather ICE candidates: this host has no usable address (only loopback or link-local)",
      );
    }
    await _checkBindPermission(hostAddresses);
    const werift = await _loadWerift();
    const connection = _createConnection(
      werift,
      options.role === "controlling",
      hostAddresses,
      _isLoopback,
    );
    try {
      await connection.gatherCandidates();
      const protocols = _protocolsOf(connection);
      if (protocols.length === 0) {
        throw new Error(
          `Cannot gather ICE candidates: no UDP socket could be opened on ${
            hostAddresses.join(", ")
          }`,
        );
      }
      signal?.throwIfAborted();
      const candidates = protocols.map(_hostCandidateOf);
      const sockets = candidates.map(({ address, port }) => ({ address, port }));
      const reflexiveGathering = _gatherServerReflexive(
        werift,
        protocols,
        stunServers,
        candidates,
        signal,
      );
      const reflexiveDone = reflexiveGathering.then(() => {}, () => {});
      const [reflexive, sourced] = await Promise.all([
        reflexiveGathering,
        options.candidateSource?.(sockets, reflexiveDone).catch(() => []) ?? [],
      ]);
      const seen = new Set(candidates.map((c) => `${c.address} ${c.port}`));
      for (const candidate of [...sourced, ...reflexive]) {
        const key = `${candidate.address} ${candidate.port}`;
        if (seen.has(key)) continue; // a mapping STUN also saw is named as the mapping
        seen.add(key);
        candidates.push(validateCandidate(candidate));
      }
      signal?.throwIfAborted();
      return new IceAgent(werift, connection, options.role, candidates, skip);
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /**
   * Runs connectivity checks against the peer, then confirms the nominated
   * path with the peer over that path (see `_ready_handshake.ts`). Resolves
   * only when both sides have completed ICE, so either may release right after.
   * Call once per agent.
   *
   * @throws {IceFailedError} when no path is confirmed within `timeoutMs`, or no pair can be formed.
   * @throws {TypeError} when the remote credentials are malformed.
   * @throws {RangeError} when `timeoutMs` is not a positive number.
   * On failure or abort every socket is closed before the promise settles.
   */
  async connect(remote: RemoteIceParameters, options: IceConnectOptions): Promise<NominatedPath> {
    if (this.#closing) throw new Error("Cannot connect: the ICE agent is closed");
    if (this.#session) {
      throw new Error("Cannot connect: connect() was already called on this agent");
    }
    if (!(options.timeoutMs > 0)) {
      throw new RangeError(`Cannot connect: timeoutMs must be positive, got ${options.timeoutMs}`);
    }
    const credentials = validateCredentials(remote.credentials);
    const candidates = remote.candidates.filter((c) => _isUsable(c) && !this.#avoid(c.address));
    const connection = this.#connection;
    connection.setRemoteParams({
      iceLite: false,
      usernameFragment: credentials.ufrag,
      password: credentials.pwd,
    });
    for (const candidate of candidates) {
      await connection.addRemoteCandidate(_toWeriftCandidate(this.#werift, candidate));
    }
    await connection.addRemoteCandidate(undefined);
    // close() may have run during the awaits above.
    if (this.#closing) throw new Error("Cannot connect: the ICE agent was closed");
    const session = new _ConnectSession(
      {
        connection,
        localUfrag: this.localCredentials.ufrag,
        remoteUfrag: credentials.ufrag,
        remoteCandidateCount: candidates.length,
        recheckFailedPairs: () => _recheckFailedPairs(this.#werift, connection),
      },
      { timeoutMs: options.timeoutMs, signal: options.signal },
    );
    this.#session = session;
    if (connection.checkList.length === 0) {
      session.cancel(
        new IceFailedError(
          `none of the peer's ${remote.candidates.length} candidates can pair with ours (different address families, or none usable)`,
        ),
      );
    }
    for (const { protocol, from, message } of this.#inbox.splice(0)) {
      session.received(protocol, from, message);
    }
    let confirmed: _ConfirmedPath;
    try {
      confirmed = await session.result;
    } catch (error) {
      await this.close();
      throw error;
    }
    return this.#nominatedPath(confirmed, candidates);
  }

  /** Closes every socket of the agent; a pending `connect()` rejects. Idempotent. */
  close(): Promise<void> {
    this.#session?.cancel(new Error("Cannot connect: the ICE agent was closed"));
    this.#closing ??= this.#connection.close();
    return this.#closing;
  }

  #received(protocol: StunProtocol, from: _Address, message: _ReadyMessage): void {
    if (this.#session) {
      this.#session.received(protocol, from, message);
    } else {
      this.#inbox.push({ protocol, from, message });
      if (this.#inbox.length > INBOX_LIMIT) this.#inbox.shift();
    }
  }

  #nominatedPath(confirmed: _ConfirmedPath, remoteCandidates: IceCandidate[]): NominatedPath {
    const [bindAddress, bindPort] = _boundAddress(confirmed.protocol);
    const local = _endOf(confirmed.observed, this.localCandidates);
    const remote = _endOf(confirmed.remote, remoteCandidates);
    return {
      local,
      remote,
      connectionType: connectionTypeOf(local.type, remote.type),
      method: "ice",
      bindAddress,
      bindPort,
      release: () => this.close(),
    };
  }
}

/** werift accepts host, srflx and relay remote candidates with literal addresses. */
function _isUsable(candidate: IceCandidate): boolean {
  try {
    validateCandidate(candidate);
    return candidate.type !== "prflx";
  } catch {
    return false;
  }
}

function _endOf([address, port]: _Address, candidates: IceCandidate[]): PathEnd {
  const candidate = candidates.find((c) => c.address === address && c.port === port);
  return {
    address,
    port,
    type: candidate?.type ?? "prflx",
    ...(candidate?.portMap ? { portMapped: true } : {}),
  };
}
