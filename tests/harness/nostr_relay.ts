import { ManagedProcess } from "./managed_process.ts";

const RELAY_DIR = decodeURIComponent(new URL("./_nostr_relay/", import.meta.url).pathname);
const READY_LINE = /^nostr relay listening on ws:\/\/\S+:(\d+)$/;
// The first start in a fresh checkout fetches the relay's packages and lays out its
// node_modules folder (seconds); later starts take about 150 ms.
const DEFAULT_TIMEOUT_MS = 60_000;
// The relay exits at once on SIGINT, within 1 s on SIGTERM; SIGKILL if it somehow does not.
const STOP_GRACE_MS = 3_000;

/** Options for {@linkcode startNostrRelay}. */
export interface NostrRelayOptions {
  /** IPv4 address to bind (and the only one the relay may use). Default 127.0.0.1. */
  hostname?: string;
  /** Port to bind. Default 0 (the OS picks). */
  port?: number;
  /** Command prefix to run the relay under, e.g. `["ip", "netns", "exec", "ns1"]`. */
  wrap?: string[];
  /**
   * Whether live events are matched against a subscription's tag filters (`#p`,
   * `#t`) before they are sent, as NIP-01 asks. Default true. The relay package
   * alone (@nostr-relay/core 0.0.40) matches live events on ids, authors, kinds,
   * since and until only: false keeps that, to test a client's own filtering.
   */
  liveTagFilters?: boolean;
  /** Bound on the relay's start. Default 60,000 ms (the first start fetches packages). */
  timeoutMs?: number;
  /** Ignore the first REQ of every connection, as a relay that loses a subscription at connect. Default false. */
  dropFirstReq?: boolean;
  /**
   * Refuse a public key's ephemeral events (kinds 20000-29999) beyond `events`
   * in any `windowMs`, as nostream does (60 a minute by default there). The
   * answer: `["OK", id, false, "rate-limited: ..."]` (`ok`, the default), a
   * NOTICE (`notice`), or a NOTICE and a CLOSED of the connection's
   * subscriptions (`closed`). Default: no limit.
   */
  rateLimit?: { events: number; windowMs: number; answer?: "ok" | "notice" | "closed" };
  /**
   * Print a line per EVENT received (`event PUBKEY KIND ID MS`), per event
   * refused for the rate limit (`rate-limited PUBKEY ID MS`) and per REQ dropped
   * (`dropped REQ SUBID MS`), MS when (ms since the epoch), read with
   * {@linkcode NostrRelayFixture.logLines}. Default false.
   */
  logEvents?: boolean;
}

/** How the relay goes down in {@linkcode NostrRelayFixture.stop} and `restart()`. */
export interface NostrRelayStopOptions {
  /**
   * Send every connection a close frame (1001, going away) before exiting, as a
   * relay shutting down cleanly does. Default false: the process is killed and
   * its connections drop (Deno's WebSocket then fires `error`, then `close`).
   */
  graceful?: boolean;
}

/** A Nostr relay running in its own process, on loopback unless given a `hostname`. */
export interface NostrRelayFixture extends AsyncDisposable {
  /** `ws://HOSTNAME:PORT`. */
  readonly url: string;
  /** The bound port (kept across restarts). */
  readonly port: number;
  /** Collected stderr of the current relay process, for failure messages. */
  stderrText(): string;
  /** The current relay process's log lines (with `logEvents`), oldest first. */
  logLines(): string[];
  /**
   * Stops the relay (see {@linkcode NostrRelayStopOptions}) and starts a new one
   * on the same port. Stored events are lost: the relay keeps them in memory.
   *
   * @throws {Error} when the fixture was stopped, or the new relay does not start
   * (the port was taken meanwhile).
   */
  restart(options?: NostrRelayStopOptions): Promise<void>;
  /** Stops the relay and waits for its exit. Later calls wait for the first one. */
  stop(options?: NostrRelayStopOptions): Promise<void>;
}

/**
 * Starts a Nostr relay written by others (@nostr-relay/core, NIP-01: EVENT with OK,
 * REQ with stored events then EOSE, live events, CLOSE; ids and signatures
 * checked) on 127.0.0.1 (or `hostname`), in a child `deno run` allowed that address only.
 * Regular events are kept in memory; ephemeral ones (kinds 20000-29999, nostr
 * mode's 24242 among them) are only sent to the subscriptions open at the time.
 *
 * @throws {Error} when the relay does not start within `timeoutMs`.
 * @example
 * ```ts
 * await using relay = await startNostrRelay();
 * const pool = new SimplePool();
 * await Promise.any(pool.publish([relay.url], event));
 * ```
 */
export async function startNostrRelay(options: NostrRelayOptions = {}): Promise<NostrRelayFixture> {
  const hostname = options.hostname ?? "127.0.0.1";
  const behaviour = [
    ...(options.liveTagFilters ?? true ? [] : ["--ignore-live-tag-filters"]),
    ...(options.dropFirstReq ? ["--drop-first-req"] : []),
    ...(options.rateLimit
      ? [
        "--rate-limit-answer",
        options.rateLimit.answer ?? "ok",
        "--rate-limit",
        `${options.rateLimit.events}/${options.rateLimit.windowMs}`,
      ]
      : []),
    ...(options.logEvents ? ["--log-events"] : []),
  ];
  const launch = (port: number) =>
    spawnRelay(hostname, port, {
      behaviour,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      wrap: options.wrap ?? [],
    });
  let current = await launch(options.port ?? 0);
  const port = current.port;
  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: NostrRelayStopOptions = {}) =>
    stopping ??= current.process.stop({ signal: stopSignal(stopOptions) }).then(() => {});
  return {
    url: `ws://${hostname}:${port}`,
    port,
    stderrText: () => current.process.stderrText(),
    logLines: () => current.process.lines("stdout").filter((line) => !READY_LINE.test(line)),
    async restart(stopOptions: NostrRelayStopOptions = {}) {
      if (stopping) throw new Error("Cannot restart the Nostr relay: it was stopped");
      await current.process.stop({ signal: stopSignal(stopOptions) });
      current = await launch(port);
    },
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}

// The relay process closes its connections on SIGTERM, and ends at once on SIGINT.
function stopSignal(options: NostrRelayStopOptions): Deno.Signal {
  return options.graceful ? "SIGTERM" : "SIGINT";
}

async function spawnRelay(
  hostname: string,
  port: number,
  options: { behaviour: string[]; timeoutMs: number; wrap: string[] },
): Promise<{ process: ManagedProcess; port: number }> {
  const { behaviour, timeoutMs, wrap } = options;
  const [program, ...prefix] = [...wrap, Deno.execPath()];
  const process = ManagedProcess.spawn(program, {
    args: [
      ...prefix,
      "run",
      "--no-prompt",
      "--config",
      `${RELAY_DIR}deno.json`,
      `--allow-net=${hostname}`,
      `${RELAY_DIR}relay_process.ts`,
      "--hostname",
      hostname,
      "--port",
      String(port),
      ...behaviour,
    ],
    env: { NO_COLOR: "1" },
    graceMs: STOP_GRACE_MS,
  });
  try {
    const line = await process.waitForLine(READY_LINE, { stream: "stdout", timeoutMs });
    return { process, port: Number(READY_LINE.exec(line)![1]) };
  } catch (error) {
    await process.stop();
    throw error;
  }
}
