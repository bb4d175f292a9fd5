import { PROJECT_CONFIG, startManualPair } from "../tests/harness/mod.ts";
import { type BenchSuite, reasonOf } from "./bench_suite.ts";
import { median } from "./stats.ts";
import { firstEcho } from "./first_echo.ts";

// Each pair costs two Deno start-ups; three gives a median without dominating the run.
const PAIRS = 3;
// Loopback only: never offer the machine's other interface addresses.
const LOOPBACK = ["--no-stun", "--host-candidate", "127.0.0.1"];

const spawn = (args: string[]) =>
  new Deno.Command(Deno.execPath(), { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();

/**
 * manual mode's set-up time: from the client printing its offer to the first byte
 * echoed through the tunnel, both blocks pasted by the harness at once (so this
 * is the machine's time, without a person's). Includes the server's start-up
 * after the paste, ICE, the QUIC handshake, auth and the source request.
 */
export const manualSetup: BenchSuite = {
  name: "manual-setup",
  description: "manual mode: offer printed to first echoed byte (median of 3 pairs, loopback)",
  async run(env) {
    const table = `manual mode set-up (median of ${PAIRS} pairs, loopback, --no-stun)`;
    const times: number[] = [];
    const ready: number[] = [];
    const failures: string[] = [];
    for (let i = 0; i < PAIRS; i++) {
      try {
        await using pair = startManualPair(spawn, spawn, env.mainModule, PROJECT_CONFIG, [
          ...LOOPBACK,
          "-s",
          `tcp://127.0.0.1:${env.echoPort()}`,
          "-t",
          "127.0.0.1:0",
        ], [...LOOPBACK, "--allowed-tcp", "127.0.0.0/8"]);
        const line = await pair.client.waitFor(/^Tunnel ready: 127\.0\.0\.1:(\d+)/, 30_000);
        const offerAt = await pair.offerPrintedAt;
        ready.push(performance.now() - offerAt);
        await firstEcho(Number(line[1]));
        times.push(performance.now() - offerAt);
      } catch (error) {
        failures.push(reasonOf(error));
      }
    }
    return [{
      table,
      path: "manual client + server",
      values: {
        "offer to ready ms": ready.length ? median(ready) : null,
        "offer to first byte ms": times.length ? median(times) : null,
      },
      note: failures.length ? `${failures.length} failed: ${failures[0]}` : "",
    }];
  },
};
