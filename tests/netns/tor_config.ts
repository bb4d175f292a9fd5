/**
 * The `torrc` text of every member of the private Tor network, as pure functions: no files,
 * no processes. Every tor runs inside one network namespace that has nothing but its own
 * loopback, so the fixed ports below collide with nothing on the machine, and the clients'
 * SOCKS ports and the onion services' targets are Unix sockets the harness bridges to the
 * caller's loopback (see tor_network.ts).
 * @module
 */

/** The loopback address every tor of the network binds and advertises. */
export const TOR_NETWORK_ADDRESS = "127.0.0.1";

/** ORPort of authority `i` (inside the network's namespace). */
export function authorityOrPort(i: number): number {
  return 5000 + i;
}

/** DirPort of authority `i`: authorities serve votes and consensuses over plain HTTP. */
export function authorityDirPort(i: number): number {
  return 7000 + i;
}

/** ORPort of relay `i`. */
export function relayOrPort(i: number): number {
  return 5100 + i;
}

/** What the other members need to know about one directory authority. */
export interface AuthorityIdentity {
  /** Tor nickname, `auth<i>`. */
  readonly nickname: string;
  readonly orPort: number;
  readonly dirPort: number;
  /** Fingerprint of the authority's v3 identity key (`fingerprint` line of its certificate). */
  readonly v3Ident: string;
  /** Fingerprint of its relay identity key (`tor --list-fingerprint`), spaces removed. */
  readonly fingerprint: string;
}

/** The `DirAuthority` line naming `a`. Setting any replaces tor's built-in public authorities. */
export function dirAuthorityLine(a: AuthorityIdentity): string {
  return `DirAuthority ${a.nickname} orport=${a.orPort} no-v2 v3ident=${a.v3Ident} ` +
    `${TOR_NETWORK_ADDRESS}:${a.dirPort} ${a.fingerprint}`;
}

/** Voting schedule of the authorities, in seconds. */
export interface VotingSchedule {
  /** Seconds between consensuses; also the first (initial) interval. */
  readonly interval: number;
  /** Seconds the authorities wait for each other's votes, and again for signatures. */
  readonly delay: number;
}

/**
 * The fastest schedule that stays reliable on a loaded two-core machine: a consensus every
 * 10 s. Tor requires vote delay plus distribution delay below half the interval.
 */
export const FAST_VOTING: VotingSchedule = { interval: 10, delay: 2 };

/** Lines every member shares: the private network's identity and the Testing* pace. */
function commonLines(
  nickname: string,
  dataDir: string,
  authorities: readonly AuthorityIdentity[],
): string[] {
  return [
    // Changes the defaults of the options the manual lists under TESTING NETWORK OPTIONS
    // (private addresses allowed, no distinct subnets, fast downloads). Tor refuses it
    // unless the authorities are set explicitly, which the DirAuthority lines below do.
    "TestingTorNetwork 1",
    `DataDirectory ${dataDir}`,
    `Nickname ${nickname}`,
    "RunAsDaemon 0",
    // The harness stops tors with SIGTERM and wants them gone at once.
    "ShutdownWaitLength 0",
    `PidFile ${dataDir}/pid`,
    `Log notice file ${dataDir}/notice.log`,
    "SafeLogging 0",
    // The namespace has IPv6 off; never try it.
    "ClientUseIPv6 0",
    // Own authorities only; no public fallback directory may be tried, ever.
    "UseDefaultFallbackDirs 0",
    "UseBridges 0",
    // Enough for a network this small (the default 60% of paths needs more relays).
    "PathsNeededToBuildCircuits 0.25",
    // Clients batch descriptor fetches for up to this long: keep it short.
    "TestingClientMaxIntervalWithoutRequest 1 seconds",
    ...authorities.map(dirAuthorityLine),
  ];
}

/** Lines of every relay (authorities are relays too). */
function relayLines(orPort: number): string[] {
  return [
    `Address ${TOR_NETWORK_ADDRESS}`,
    `ORPort ${TOR_NETWORK_ADDRESS}:${orPort}`,
    "SocksPort 0",
    // Publish at once instead of first testing reachability through circuits that cannot
    // exist before the first consensus.
    "AssumeReachable 1",
    "PublishServerDescriptor 1",
    "ContactInfo tunnel-test@localhost",
    // Exits may only reach the namespace's own loopback: a stream can go nowhere else.
    "ExitRelay 1",
    "ExitPolicyRejectPrivate 0",
    "ExitPolicyRejectLocalInterfaces 0",
    `ExitPolicy accept ${TOR_NETWORK_ADDRESS}/8:*`,
    "ExitPolicy reject *:*",
    "ExitPolicy reject6 *:*",
  ];
}

/** `torrc` of directory authority `self` (which is listed in `authorities`). */
export function authorityTorrc(
  self: AuthorityIdentity,
  dataDir: string,
  authorities: readonly AuthorityIdentity[],
  schedule: VotingSchedule = FAST_VOTING,
): string {
  return [
    ...commonLines(self.nickname, dataDir, authorities),
    ...relayLines(self.orPort),
    `DirPort ${TOR_NETWORK_ADDRESS}:${self.dirPort}`,
    "AuthoritativeDirectory 1",
    "V3AuthoritativeDirectory 1",
    `V3AuthVotingInterval ${schedule.interval}`,
    `V3AuthVoteDelay ${schedule.delay}`,
    `V3AuthDistDelay ${schedule.delay}`,
    `TestingV3AuthInitialVotingInterval ${schedule.interval}`,
    `TestingV3AuthInitialVoteDelay ${schedule.delay}`,
    `TestingV3AuthInitialDistDelay ${schedule.delay}`,
    // A consensus stays valid for two intervals: one late vote does not stall the network.
    "V3AuthNIntervalsValid 2",
    // Flags that normally take hours of observed uptime and bandwidth, voted at once for
    // every relay: a hidden service needs guards and HSDirs, clients need exits to count
    // as bootstrapped.
    "TestingDirAuthVoteGuard *",
    "TestingDirAuthVoteExit *",
    "TestingDirAuthVoteHSDir *",
    "TestingMinExitFlagThreshold 0",
    "TestingMinFastFlagThreshold 0",
    "",
  ].join("\n");
}

/** `torrc` of an ordinary relay. */
export function relayTorrc(
  nickname: string,
  orPort: number,
  dataDir: string,
  authorities: readonly AuthorityIdentity[],
): string {
  return [...commonLines(nickname, dataDir, authorities), ...relayLines(orPort), ""].join("\n");
}

/** Where an onion service's tor sends the streams of each virtual port. */
export interface OnionServiceTargets {
  /** Directory holding the service's keys and `hostname` (kept across restarts). */
  readonly serviceDir: string;
  /** The onion's port the caller's clients connect to. */
  readonly virtualPort: number;
  /** Unix socket the harness bridges to the caller's loopback port. */
  readonly targetSocket: string;
  /** A second onion port, for the harness's reachability probes only. */
  readonly probePort: number;
  /** Unix socket answering the probes (never the caller's server). */
  readonly probeSocket: string;
}

/** `torrc` of a tor that only hosts an onion service (a client, not a relay). */
export function onionServiceTorrc(
  nickname: string,
  dataDir: string,
  authorities: readonly AuthorityIdentity[],
  service: OnionServiceTargets,
): string {
  return [
    ...commonLines(nickname, dataDir, authorities),
    // Only the info level says when a descriptor reached an HSDir (see uploadedDescriptors).
    `Log info file ${dataDir}/info.log`,
    "SocksPort 0",
    `HiddenServiceDir ${service.serviceDir}`,
    "HiddenServiceVersion 3",
    `HiddenServicePort ${service.virtualPort} unix:${service.targetSocket}`,
    `HiddenServicePort ${service.probePort} unix:${service.probeSocket}`,
    "",
  ].join("\n");
}

/** `torrc` of a client whose SOCKS port is the Unix socket `socksSocket`. */
export function clientTorrc(
  nickname: string,
  dataDir: string,
  authorities: readonly AuthorityIdentity[],
  socksSocket: string,
): string {
  return [
    ...commonLines(nickname, dataDir, authorities),
    // No IP port: nothing outside the namespace could reach one. The harness bridges a
    // loopback TCP port of the caller's namespace to this socket. ExtendedErrors, as the
    // docs tell users: refusals name their reason (0xF0-0xF7).
    `SocksPort unix:${socksSocket} ExtendedErrors`,
    // After an onion service restarts, a client whose introduction to the old instance was
    // acknowledged keeps attaching new streams to that rendezvous circuit, which waits for
    // a service that is gone, until the circuit is older than this (default 10 minutes:
    // seen here as a restarted onion unreachable for minutes). 10 s lets it recover quickly.
    "MaxCircuitDirtiness 10",
    "",
  ].join("\n");
}

/** The onion port probes use: 1, or 2 when the caller's virtual port is 1. */
export function probePortFor(virtualPort: number): number {
  return virtualPort === 1 ? 2 : 1;
}

/**
 * The last `Bootstrapped N%` of a tor notice log, 0 before the first. Tor logs each step
 * once, in increasing order, so the last one is the current progress.
 */
export function bootstrapPercent(log: string): number {
  let percent = 0;
  for (const match of log.matchAll(/Bootstrapped (\d{1,3})%/g)) percent = Number(match[1]);
  return percent;
}

/** The last `[err]` or `[warn]` line of a tor notice log (without its timestamp), if any. */
export function lastProblem(log: string): string | undefined {
  const lines = log.split("\n").filter((line) => /\[(err|warn)\]/.test(line));
  const last = lines.at(-1);
  return last?.replace(/^.*?\[(err|warn)\]\s*/, "").trim();
}

/**
 * How many descriptor uploads an onion service's info log reports as stored by an HSDir.
 * A service uploads two descriptors (this time period's and the next's) to each HSDir
 * responsible for them; with every relay an HSDir, that is two per relay.
 */
export function uploadedDescriptors(infoLog: string): number {
  return infoLog.match(/Uploaded hidden service descriptor \(status 200/g)?.length ?? 0;
}
