/**
 * NAT traversal for manual (and nostr) mode: an ICE session whose result is a
 * nominated UDP path that a QUIC endpoint takes over.
 *
 * Flow: each side calls {@linkcode IceAgent.gather}, sends its
 * `localCredentials` and `localCandidates` to the peer through signaling,
 * then calls {@linkcode IceAgent.connect} with the peer's. `connect` resolves
 * only once both sides have completed ICE (they confirm it to each other over
 * the path), so each side may `release()` right away and bind QUIC on
 * `bindAddress:bindPort`. The QUIC client then dials `path.remote`; a listener
 * that binds a little later is covered by the client's Initial retransmits.
 *
 * ```ts
 * import { IceAgent, IceFailedError } from "./mod.ts";
 *
 * const agent = await IceAgent.gather({ role: "controlled", stunServers: ["stun.example.net:3478"] });
 * const offer = { credentials: agent.localCredentials, candidates: agent.localCandidates };
 * const answer = await exchangeThroughSignaling(offer); // copy-paste, nostr, ...
 * try {
 *   const path = await agent.connect(answer, { timeoutMs: 30_000 });
 *   console.log(`Connection: ${path.connectionType}`);
 *   console.log(`Local: ${path.local.address}:${path.local.port} -> Remote: ${path.remote.address}:${path.remote.port}`);
 *   await path.release();
 *   const endpoint = new Deno.QuicEndpoint({ hostname: path.bindAddress, port: path.bindPort });
 *   // server: endpoint.listen({ cert, key, alpnProtocols });
 *   // client: Deno.connectQuic({ endpoint, hostname: path.remote.address, port: path.remote.port, ... });
 * } catch (error) {
 *   if (error instanceof IceFailedError) console.error(error.message); // no stack trace for users
 *   else throw error;
 * }
 * ```
 *
 * Permissions (measured with Deno 2.9):
 * - `--allow-net`: sockets bind `0.0.0.0:0` (and `[::]:0` for IPv6 hosts), then send
 *   to the peer's candidates and the STUN servers. A narrower list does not fail
 *   loudly: a send to an address outside it is dropped, so ICE times out.
 * - `--allow-sys=networkInterfaces`: to list host addresses (not needed when
 *   `hostAddresses` is given).
 * - env: werift-ice's `debug` dependency enumerates the environment when the
 *   module loads (on the first `gather`): `--allow-env`, or `--ignore-env` plus
 *   `--allow-env=DEBUG` to keep `DEBUG=werift*` logging. werift logs nothing
 *   unless DEBUG enables its namespaces.
 * - `--unstable-net` only for the QUIC endpoint that takes the path over.
 *
 * When ICE finds no pair and one side's NAT maps per destination (symmetric)
 * while the other's does not, {@linkcode decideBirthday} and
 * {@linkcode punchBirthday} try birthday punching: bounded sockets, probes and
 * time (see birthday_plan.ts), and the winning pair is a `NominatedPath` with
 * `method: "birthday"`.
 *
 * Never contacted: public STUN servers (only those passed in `stunServers`),
 * multicast DNS (`.local` candidates are rejected), TURN.
 *
 * @module
 */

export {
  IceAgent,
  type IceConnectOptions,
  type IceGatherOptions,
  type IceSocketAddress,
  type RemoteIceParameters,
} from "./ice_agent.ts";
export {
  type CandidateType,
  formatCandidate,
  type IceCandidate,
  type IceCredentials,
  parseCandidate,
  validateCandidate,
  validateCredentials,
} from "./ice_candidate.ts";
export { IceFailedError } from "./ice_failed_error.ts";
export {
  formatIceParameters,
  MAX_ICE_CANDIDATES,
  parseIceParameters,
} from "./ice_parameters_text.ts";
export {
  connectionTypeOf,
  type NominatedPath,
  type PathEnd,
  type PathMethod,
  pathMethodOf,
} from "./nominated_path.ts";
export {
  advertisedMapping,
  classifyMapping,
  type MappedAnswer,
  type MappingBehaviour,
} from "./mapping_behaviour.ts";
export {
  type BirthdayDecision,
  type BirthdayPunchOptions,
  decideBirthday,
  isProbeTarget,
  punchBirthday,
} from "./birthday_punch.ts";
export {
  BIRTHDAY_LOWEST_PORT,
  BIRTHDAY_PROBE_SPREAD_MS,
  BIRTHDAY_PROBES,
  BIRTHDAY_SOCKETS,
  BIRTHDAY_SPRAY_INTERVAL_MS,
  BIRTHDAY_SPRAY_ROUNDS,
  BIRTHDAY_TIMEOUT_MS,
  planProbes,
  type ProbePlan,
  type RandomSource,
  secureRandom,
  seededRandom,
} from "./birthday_plan.ts";
export {
  BIRTHDAY_CONFIRM_INTERVAL_MS,
  BIRTHDAY_LINGER_MS,
  BIRTHDAY_MAX_ANSWERS,
  BIRTHDAY_MAX_CONFIRMS,
  type BirthdayAddress,
  type BirthdayPair,
  type BirthdaySend,
  BirthdaySession,
  type BirthdaySessionOptions,
  type BirthdayState,
} from "./birthday_session.ts";
export {
  BIRTHDAY_MESSAGE_LENGTH,
  BIRTHDAY_TOKEN_LENGTH,
  type BirthdayKind,
  birthdayToken,
  decodeBirthday,
  encodeBirthday,
} from "./birthday_message.ts";
export {
  BirthdayFailedError,
  type BirthdayRunOptions,
  type BirthdayRunResult,
  runBirthday,
} from "./birthday_run.ts";
export {
  type BirthdaySocket,
  type BirthdaySocketOpener,
  denoBirthdaySockets,
} from "./birthday_sockets.ts";
