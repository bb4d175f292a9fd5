import { NostrSecretKey } from "../core/nostr/mod.ts";
import { ManagedProcess, startNostrRelay, tunnelCommandArgs } from "../tests/harness/mod.ts";
import { LOOPBACK_ICE } from "./bench_environment.ts";
import { reasonOf } from "./bench_suite.ts";
import { firstEcho } from "./first_echo.ts";

const CLIENT_READY = /^Tunnel ready: 127\.0\.0\.1:(\d+)/;
const SERVER_READY = /^Waiting for /;
// A nostr client waits at most 30 s for the offer (OFFER_TIMEOUT_MS), then up to 25 s of ICE.
const READY_TIMEOUT_MS = 60_000;

/** What {@linkcode measureNostrStartup} measured; each list holds one figure per client. */
export interface NostrStartup {
  /** `tunnel server nostr` spawn to its "Waiting for" line, or null when it did not start. */
  serverReadyMs: number | null;
  /** Client spawn to `Tunnel ready`. */
  ready: number[];
  /** First local connection to the first echoed byte. */
  firstByte: number[];
  /** Client spawn to the first echoed byte (the two above, plus the gap between them). */
  spawnToFirstByte: number[];
  /** One reason per client (or the set-up) that failed. */
  failures: string[];
}

/**
 * nostr mode's set-up on loopback: a Nostr relay fixture and one `tunnel server nostr`,
 * then `clients` fresh `tunnel client nostr` one after another, each asked for
 * `tcp://127.0.0.1:echoPort` with host candidates on 127.0.0.1 and no STUN.
 * Everything started here is stopped before it returns; failures are reported, not thrown.
 */
export async function measureNostrStartup(
  echoPort: number,
  options: { clients: number; mainModule: string },
): Promise<NostrStartup> {
  const result: NostrStartup = {
    serverReadyMs: null,
    ready: [],
    firstByte: [],
    spawnToFirstByte: [],
    failures: [],
  };
  const serverKey = NostrSecretKey.generate();
  const clientKey = NostrSecretKey.generate();
  const spawn = (args: string[]) =>
    ManagedProcess.spawn(Deno.execPath(), {
      args: tunnelCommandArgs(args, { mainModule: options.mainModule }),
      stopSignal: "SIGINT",
    });
  try {
    await using relay = await startNostrRelay();
    const common = ["--relay", relay.url, ...LOOPBACK_ICE];
    const serverStarted = performance.now();
    await using server = spawn([
      "server",
      "nostr",
      "--nsec",
      serverKey.nsec,
      "--peer-npub",
      clientKey.publicKey.npub,
      "--allowed-tcp",
      "127.0.0.0/8",
      ...common,
    ]);
    await server.waitForLine(SERVER_READY, { stream: "stdout", timeoutMs: READY_TIMEOUT_MS });
    result.serverReadyMs = performance.now() - serverStarted;
    for (let i = 0; i < options.clients; i++) {
      try {
        const started = performance.now();
        await using client = spawn([
          "client",
          "nostr",
          "--nsec",
          clientKey.nsec,
          "--peer-npub",
          serverKey.publicKey.npub,
          "-s",
          `tcp://127.0.0.1:${echoPort}`,
          "-t",
          "127.0.0.1:0",
          ...common,
        ]);
        const line = await client.waitForLine(CLIENT_READY, {
          stream: "stdout",
          timeoutMs: READY_TIMEOUT_MS,
        });
        result.ready.push(performance.now() - started);
        result.firstByte.push(await firstEcho(Number(CLIENT_READY.exec(line)![1])));
        result.spawnToFirstByte.push(performance.now() - started);
      } catch (error) {
        result.failures.push(reasonOf(error));
      }
    }
  } catch (error) {
    result.failures.push(reasonOf(error));
  }
  return result;
}
