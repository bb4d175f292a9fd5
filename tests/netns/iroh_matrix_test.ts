/**
 * iroh mode through real NATs: for each pair of NAT kinds (and both hosts on
 * one LAN), a client given the EndpointId, the relay and the pkarr relay
 * connects through `tunnel relay` on the public segment, then punches a
 * direct path wherever plain ICE can (manual mode's matrix says where), by
 * birthday punching where one NAT is symmetric and the other port-restricted
 * (both sides given two STUN servers, so each knows its NAT's mapping), and
 * stays on the relay elsewhere; SSH works either way. Then, on a punched
 * path: the relay killed mid-transfer (the transfer and SSH go on), and the
 * direct path cut and restored (new connections go over the relay within
 * 5 s, then back to direct). Prints one RESULT line per case
 * (docs/NAT_MATRIX.md, iroh section).
 */
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { type ManagedProcess, runCommand, startSshd, tunnelCommandArgs } from "../harness/mod.ts";
import {
  BED_RELAY_URL,
  inNamespace,
  startBedClient,
  startBedEcho,
  startBedRelay,
  startBedServer,
} from "./tunnels_in_bed.ts";
import { type Bed, type BedHost, type BedOptions, canBuildBeds, createBed } from "./mod.ts";
import type { NatKind } from "./mod.ts";
import { startStunServer } from "./coturn.ts";
import { UPGRADE_ICE_TIMEOUT_MS } from "../../core/upgrade/mod.ts";
import { RELAYED_IDLE_TIMEOUT_MS } from "../../core/transport/mod.ts";

const support = await canBuildBeds();
if (!support.ok) console.log(`skipping iroh NAT matrix: ${support.reason}`);
const RELAY_URL = BED_RELAY_URL;
// `path: direct 198.51.100.20:4000 (server-reflexive), rtt 0.4 ms`: the address and how a
// punched path was found; an address from the record, dialed at once, has no method.
const DIRECT_LINE = /^path: direct (\S+)(?: \(([\w-]+)\))?, rtt/;
const STATUS_ADDR = "127.0.0.1:7070";

async function until(what: string, check: () => boolean, ms: number): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - started;
}

/** The relay's STUN and a second one (coturn), so each side can tell its NAT's mapping. */
const TWO_STUN_SERVERS = ["198.51.100.1:3478", "198.51.100.2:3478"];

/**
 * Where birthday punching finds the path: one side symmetric, the other
 * port-restricted (with a cone NAT facing a symmetric one, plain ICE works).
 */
function byBirthday(client: NatKind, server: NatKind | "same-lan"): boolean {
  const pair = [client, server].sort().join(" ");
  return pair === "port-restricted symmetric";
}

/** Where plain ICE finds a path (docs/NAT_MATRIX.md, manual mode). */
function punchable(client: NatKind, server: NatKind | "same-lan"): boolean {
  if (server === "same-lan") return true;
  const hard = (k: NatKind) => k === "symmetric";
  const strict = (k: NatKind) => k === "symmetric" || k === "port-restricted";
  return !(hard(client) && strict(server)) && !(hard(server) && strict(client));
}

interface Running {
  bed: Bed;
  relay: ManagedProcess;
  client: ManagedProcess;
  localPort: number;
  sshPort: number;
  sshdArgs: (port: number) => string[];
  readyMs: number;
  firstByteMs: number;
  echoPort: number;
  /** Kills the server with SIGKILL and starts it again with the same key, token and relay. */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Relay on the public host, sshd + echo + tunnel server on the right, client
 * on the left. `twoStun`: a second STUN server beside the relay's, named to
 * both sides.
 */
async function connect(options: BedOptions, twoStun = false): Promise<Running> {
  const bed = await createBed({ ...options, stun: false });
  const cleanups: (() => Promise<unknown>)[] = [() => bed.close()];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const server: BedHost = bed.right;
    const clientHost: BedHost = bed.left;
    const relay = await startBedRelay(bed, ["--stun-bind", "198.51.100.1:3478"]);
    cleanups.push(() => relay.stop());
    const stunArgs = twoStun ? TWO_STUN_SERVERS.flatMap((s) => ["--stun-server", s]) : [];
    if (twoStun) {
      const dir = await Deno.makeTempDir({ prefix: "tnb-stun-" });
      cleanups.push(() => Deno.remove(dir, { recursive: true }));
      const stun = await startStunServer({
        ns: bed.publicHost.ns,
        ips: ["198.51.100.2"],
        port: 3478,
        dir,
      });
      cleanups.push(() => stun.stop());
    }
    const sshd = await startSshd({ wrap: ["ip", ...inNamespace(server.ns, [])] });
    cleanups.push(async () => await sshd[Symbol.asyncDispose]());
    const echo = await startBedEcho(server);
    cleanups.push(() => echo.proc.stop());
    const echoPort = echo.port;
    const token = generateToken();
    const key = SecretKey.generate().toBase64();
    const serverArgs = ["-v", "--secret", key, ...stunArgs];
    let tunnelServer = await startBedServer(server, token, serverArgs);
    cleanups.push(() => tunnelServer.proc.stop());
    const id = tunnelServer.id;
    const restartServer = async () => {
      await tunnelServer.proc.stop({ signal: "SIGKILL" });
      tunnelServer = await startBedServer(server, token, serverArgs);
    };
    const { proc: client, localPort, spawnedAt: started, readyMs } = await startBedClient(
      clientHost,
      {
        serverId: id,
        token,
        source: `tcp://127.0.0.1:${sshd.port}`,
        lookup: true,
        extraArgs: ["--status", STATUS_ADDR, "-v", ...stunArgs],
      },
    );
    cleanups.push(() => client.stop());
    // First byte: sshd's banner through the tunnel.
    const banner = await runCommand("ip", {
      args: inNamespace(clientHost.ns, [
        Deno.execPath(),
        "eval",
        `const c = await Deno.connect({hostname:"127.0.0.1",port:${localPort}});` +
        `const b = new Uint8Array(64); await c.read(b); c.close();` +
        `console.log(new TextDecoder().decode(b).split("\\r")[0]);`,
      ]),
      timeoutMs: 20_000,
    });
    const firstByteMs = performance.now() - started;
    assert.match(banner.stdout, /^SSH-2\.0/, banner.stderr);
    return {
      bed,
      relay,
      client,
      localPort,
      sshPort: localPort,
      sshdArgs: (port) => sshd.sshArgs(port),
      readyMs,
      firstByteMs,
      echoPort,
      restartServer,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The kind of path `tunnel status` shows for the client's session. */
async function statusPath(run: Running): Promise<string> {
  const status = await runCommand("ip", {
    args: inNamespace(run.bed.left.ns, [
      Deno.execPath(),
      ...tunnelCommandArgs(["status", STATUS_ADDR, "--json"]),
    ]),
    timeoutMs: 20_000,
  });
  assert.equal(status.code, 0, status.stderr);
  return JSON.parse(status.stdout).sessions[0]?.path?.kind ?? "none";
}

async function ssh_(run: Running, text: string) {
  const result = await runCommand("ip", {
    args: inNamespace(run.bed.left.ns, ["ssh", ...run.sshdArgs(run.localPort), "echo", text]),
    timeoutMs: 30_000,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), text);
}

const KINDS: NatKind[] = ["full-cone", "restricted-cone", "port-restricted", "symmetric"];
const CASES: [BedOptions, string][] = [
  [{ left: "port-restricted", right: "same-lan" }, "same LAN"],
  ...KINDS.flatMap((c) =>
    KINDS.map((s): [BedOptions, string] => [{ left: c, right: s }, `${c} x ${s}`])
  ),
];

for (const [options, label] of CASES) {
  const birthday = options.right !== "same-lan" && byBirthday(options.left, options.right);
  const direct = punchable(options.left, options.right) || birthday;
  Deno.test({
    name: `iroh mode through NATs: ${label} -> ${
      birthday ? "direct by birthday punching" : direct ? "direct" : "relay"
    }`,
    ignore: !support.ok,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const run = await connect(options, birthday);
      try {
        const lines = () => run.client.lines("stdout");
        assert.ok(
          lines().some((l) => l.includes(`through relay ${RELAY_URL}`) || l.includes(" at ")),
          lines().join("\n"),
        );
        let toDirectMs: number | undefined;
        if (direct) {
          const afterReady = await until(
            "a direct path",
            () => lines().some((l) => DIRECT_LINE.test(l)),
            20_000,
          );
          toDirectMs = run.readyMs + afterReady;
          const punches = run.client.stderrText().match(/birthday punching as the/g)?.length ?? 0;
          if (birthday && punches === 1) {
            // ICE gave way after ICE_TIMEOUT_BEFORE_BIRTHDAY_MS, not the attempt's full 10 s.
            assert.ok(afterReady < UPGRADE_ICE_TIMEOUT_MS, `direct ${afterReady} ms after ready`);
          }
          // The path line names how the path was found.
          const method = lines().map((l) => DIRECT_LINE.exec(l)).find((m) => m)?.[2] ?? "record";
          assert.match(
            method ?? "",
            birthday
              ? /^birthday$/
              : options.right === "same-lan"
              ? /^(host|record)$/
              : /^(server-reflexive|peer-reflexive)$/,
            lines().join("\n"),
          );
        } else {
          await new Promise((r) => setTimeout(r, 6_000));
          assert.ok(!lines().some((l) => DIRECT_LINE.test(l)), lines().join("\n"));
        }
        await ssh_(run, "through-nat");
        // `tunnel status` agrees with the path lines.
        assert.equal(await statusPath(run), direct ? "direct" : "relay");
        const path = lines().filter((l) => l.startsWith("path: ")).at(-1) ?? "";
        console.log(
          `RESULT | ${label} | ${
            birthday ? "direct (birthday)" : direct ? "direct" : "relay"
          } | first byte ${run.firstByteMs.toFixed(0)} ms | ${
            toDirectMs ? `direct ${toDirectMs.toFixed(0)} ms` : "—"
          } | ${path}`,
        );
      } finally {
        await run.close();
      }
    },
  });
}

/** Runs `script` with bash in `host`'s namespace. */
function bashIn(host: BedHost, script: string, timeoutMs = 60_000) {
  return runCommand("ip", { args: inNamespace(host.ns, ["bash", "-c", script]), timeoutMs });
}

Deno.test({
  name: "iroh mode on a punched path: the relay killed mid-transfer; SSH and the transfer go on",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const run = await connect({ left: "full-cone", right: "full-cone" });
    try {
      const lines = () => run.client.lines("stdout");
      await until("a direct path", () => lines().some((l) => DIRECT_LINE.test(l)), 20_000);
      // 20 MB through an SSH session that stays open across the relay's death.
      const ssh = run.sshdArgs(run.localPort).map((a) => `'${a}'`).join(" ");
      const transfer = bashIn(
        run.bed.left,
        `set -o pipefail; head -c 20000000 /dev/urandom > /tmp/iroh-xfer-$$;
         local=$(sha256sum < /tmp/iroh-xfer-$$ | cut -d' ' -f1);
         remote=$(ssh ${ssh} 'sleep 2; sha256sum' < /tmp/iroh-xfer-$$ | cut -d' ' -f1);
         rm -f /tmp/iroh-xfer-$$; echo "$local $remote"`,
      );
      await new Promise((r) => setTimeout(r, 1_000));
      await run.relay.stop({ signal: "SIGKILL" });
      const result = await transfer;
      assert.equal(result.code, 0, result.stderr);
      const [local, remote] = result.stdout.trim().split(" ");
      assert.equal(remote, local);
      // The relay stays dead past the relayed QUIC connection's idle timeout (45 s), past
      // the 30 s one relay outage may last and the 5 s a peer may stay silent: the session
      // lives on the direct path, whose answers are what liveness counts.
      await new Promise((r) => setTimeout(r, RELAYED_IDLE_TIMEOUT_MS + 2_000));
      await ssh_(run, "after-relay");
      assert.equal(run.client.exitStatus, undefined, "the client kept running");
      console.log("RESULT | relay killed on a punched path | transfer and SSH unharmed");
    } finally {
      await run.close();
    }
  },
});

Deno.test({
  name:
    "iroh mode: the direct path cut mid-session falls back to the relay within 5 s, then returns",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const run = await connect({ left: "full-cone", right: "full-cone" });
    try {
      const lines = () => run.client.lines("stdout");
      await until("a direct path", () => lines().some((l) => DIRECT_LINE.test(l)), 20_000);
      const router = { ns: run.bed.left.routerNs };
      const peer = run.bed.right.wanIp;
      const rules = [["-s", peer], ["-d", peer]];
      for (const [dir, ip] of rules) {
        const r = await run.bed.exec(router, [
          "iptables",
          "-I",
          "FORWARD",
          "-p",
          "udp",
          dir,
          ip,
          "-j",
          "DROP",
        ]);
        assert.equal(r.code, 0, r.stderr);
      }
      const cutAt = performance.now();
      const seen = lines().length;
      const toRelay = await until(
        "the relay taking over",
        () => lines().slice(seen).some((l) => l.startsWith("path: relay")),
        5_000,
      );
      await ssh_(run, "over-the-relay");
      assert.equal(await statusPath(run), "relay");
      const sshDoneMs = performance.now() - cutAt;
      assert.ok(
        sshDoneMs < 10_000,
        `a new SSH connection took until ${sshDoneMs} ms after the cut`,
      );
      for (const [dir, ip] of rules) {
        await run.bed.exec(router, [
          "iptables",
          "-D",
          "FORWARD",
          "-p",
          "udp",
          dir,
          ip,
          "-j",
          "DROP",
        ]);
      }
      const seenAfter = lines().length;
      const back = await until(
        "direct again",
        () => lines().slice(seenAfter).some((l) => DIRECT_LINE.test(l)),
        60_000,
      );
      await ssh_(run, "direct-again");
      assert.equal(await statusPath(run), "direct");
      console.log(
        `RESULT | direct path cut | relay after ${toRelay.toFixed(0)} ms, SSH over it ${
          sshDoneMs.toFixed(0)
        } ms after the cut | direct again ${back.toFixed(0)} ms after the cut was lifted`,
      );
    } finally {
      await run.close();
    }
  },
});

Deno.test({
  name:
    "iroh mode: the server killed and restarted with its key; the client serves SSH again by itself",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const run = await connect({ left: "port-restricted", right: "port-restricted" });
    try {
      const lines = () => run.client.lines("stdout");
      await until("a direct path", () => lines().some((l) => DIRECT_LINE.test(l)), 20_000);
      await ssh_(run, "before");
      const killedAt = performance.now();
      await run.restartServer();
      // A new SSH connection, tried until it works or 35 s have passed since the kill.
      let served = false;
      while (!served && performance.now() - killedAt < 35_000) {
        served = await ssh_(run, "after-restart").then(() => true, () => false);
      }
      const backMs = performance.now() - killedAt;
      assert.ok(
        served,
        `no SSH through the client within 35 s of the kill:\n${run.client.stderrText()}`,
      );
      assert.equal(run.client.exitStatus, undefined, "the client kept running");
      assert.ok(
        run.client.stderrText().includes("Connection to the server lost"),
        run.client.stderrText(),
      );
      assert.ok(lines().some((l) => l.startsWith("Reconnected to server")), lines().join("\n"));
      // The new session punches again: direct within a few seconds.
      const deadline = performance.now() + 10_000;
      while (await statusPath(run) !== "direct" && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(await statusPath(run), "direct");
      console.log(
        `RESULT | server restarted | SSH through the same client ${
          backMs.toFixed(0)
        } ms after the kill`,
      );
    } finally {
      await run.close();
    }
  },
});

const BIRTHDAY_RUNS = Number(Deno.env.get("BIRTHDAY_RUNS") ?? "0");

Deno.test({
  name: `birthday punching in the bed: ${BIRTHDAY_RUNS} runs, hit rate and time to direct`,
  // A measurement, not a check for every run of the matrix: BIRTHDAY_RUNS=10 turns it on.
  ignore: !support.ok || !(BIRTHDAY_RUNS > 0),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    let attempts = 0;
    let hits = 0;
    const toDirect: number[] = [];
    const perRun: string[] = [];
    for (let i = 0; i < BIRTHDAY_RUNS; i++) {
      const options: BedOptions = i % 2 === 0
        ? { left: "port-restricted", right: "symmetric" }
        : { left: "symmetric", right: "port-restricted" };
      const run = await connect(options, true);
      try {
        const lines = () => run.client.lines("stdout");
        toDirect.push(
          run.readyMs +
            await until("a direct path", () => lines().some((l) => DIRECT_LINE.test(l)), 60_000),
        );
        const log = run.client.stderrText();
        const tries = log.match(/birthday punching as the (prober|sprayer)/g)?.length ?? 0;
        attempts += tries;
        hits += log.match(/joined the session \(birthday\)/g)?.length ?? 0;
        perRun.push(`${toDirect.at(-1)!.toFixed(0)} ms/${tries}`);
      } finally {
        await run.close();
      }
    }
    toDirect.sort((a, b) => a - b);
    console.log(
      `RESULT | birthday in the bed | per run (to direct/attempts): ${perRun.join(", ")}`,
    );
    console.log(
      `RESULT | birthday in the bed | ${hits} hits in ${attempts} attempts over ${BIRTHDAY_RUNS} runs | time to direct: median ${
        toDirect[Math.floor(toDirect.length / 2)].toFixed(0)
      } ms, max ${toDirect.at(-1)!.toFixed(0)} ms`,
    );
    assert.equal(hits, BIRTHDAY_RUNS, "every run ended direct by birthday punching");
  },
});
