/**
 * A server and a client on a network that drops every packet leaving it (a host whose
 * uplink is dead, as at boot before the network is up): start-up says what it waits for,
 * a record that could not be published is told as such with its cause, and the client's
 * lookup names why it failed. The relay and pkarr relay named are addresses in the
 * namespace the test made, where every packet is dropped.
 * Run: `deno test --config=deno.test.json -A --unstable-net tests/netns/offline_start_test.ts`.
 * @module
 */
import assert from "node:assert/strict";
import { findTool, mustRun, spawnInNamespace } from "./command.ts";
import { addNamespace, newBedPrefix, removeNamespaces, sweepStaleBeds } from "./namespaces.ts";

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const FLAGS = [
  "run",
  "--unstable-net",
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-sys=networkInterfaces",
];
// Routed into the sink namespace, which drops it.
const DEAD = "10.78.0.9";
const RELAY = `http://${DEAD}:3340/`;
const PKARR = `http://${DEAD}:3340/pkarr`;
const TOKEN = "ikAdvudu_ZxNXhNLCD";
const SERVER_ID = "2xnbkpbc7izsilvewd7c62w7wnwziacmpfwvhcrya5nt76dqkpga";
/** A client whose only way to its server is the lookup at the dead pkarr relay. */
const CLIENT_BY_LOOKUP = [
  "client",
  "--server-node-id",
  SERVER_ID,
  "--dns-server",
  PKARR,
  "--source",
  "tcp://127.0.0.1:22",
  "--target",
  "127.0.0.1:0",
  "--auth-token",
  TOKEN,
  "--no-stun",
];
const ip = findTool("ip");
const support = Deno.build.os === "linux" && Deno.uid() === 0 && ip !== undefined &&
  findTool("iptables") !== undefined;
if (!support) console.log("skipping offline start tests: needs Linux, root, iproute2 and iptables");

async function withDeadUplink(fn: (host: string) => Promise<void>): Promise<void> {
  await sweepStaleBeds();
  const prefix = newBedPrefix();
  const host = `${prefix}-host`;
  const sink = `${prefix}-sink`;
  try {
    await addNamespace(host);
    await addNamespace(sink);
    const steps = [
      ["link", "add", "up0", "netns", host, "type", "veth", "peer", "name", "down0", "netns", sink],
      ["-n", host, "addr", "add", "10.77.0.2/24", "dev", "up0"],
      ["-n", host, "link", "set", "up0", "up"],
      ["-n", sink, "addr", "add", "10.77.0.1/24", "dev", "down0"],
      ["-n", sink, "link", "set", "down0", "up"],
      ["-n", host, "route", "add", "default", "via", "10.77.0.1"],
    ];
    for (const step of steps) await mustRun([ip!, ...step]);
    // Dropped before routing, so nothing answers, not even an ICMP error: a dead uplink.
    await mustRun([
      ip!,
      "netns",
      "exec",
      sink,
      "iptables",
      "-w",
      "-t",
      "raw",
      "-A",
      "PREROUTING",
      "-j",
      "DROP",
    ]);
    await fn(host);
  } finally {
    await removeNamespaces([host, sink]);
  }
}

/** Runs the CLI in `ns` until `until` matches a line or it exits; its lines with their times. */
async function linesOf(
  ns: string,
  args: string[],
  until: RegExp,
  timeoutMs: number,
): Promise<{ lines: { at: number; text: string }[]; code: number | undefined }> {
  const started = Date.now();
  const child = spawnInNamespace(ns, [Deno.execPath(), ...FLAGS, MAIN, ...args], {
    stdout: "piped",
    stderr: "piped",
  });
  const lines: { at: number; text: string }[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop()!;
      for (const text of parts) lines.push({ at: Date.now() - started, text });
    }
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const deadline = started + timeoutMs;
  let code: number | undefined;
  const exited = child.status.then((status) => code = status.code);
  while (Date.now() < deadline && code === undefined && !lines.some((l) => until.test(l.text))) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (code === undefined) {
    try {
      child.kill("SIGTERM");
    } catch { /* exited meanwhile */ }
  }
  await exited;
  await reading;
  return { lines, code };
}

Deno.test({
  name: "offline: the server says what it waits for and that its record was not published",
  ignore: !support,
  fn: () =>
    withDeadUplink(async (host) => {
      const { lines } = await linesOf(
        host,
        [
          "server",
          "--auth-tokens",
          TOKEN,
          "--allowed-tcp",
          "127.0.0.1/32",
          "--relay-url",
          RELAY,
          "--dns-server",
          PKARR,
          "--no-stun",
        ],
        /Waiting for clients/,
        30_000,
      );
      const shown = lines.map((l) => `${l.at} ms ${l.text}`).join("\n");
      const at = (pattern: RegExp) => lines.find((l) => pattern.test(l.text))?.at;
      const waiting = at(/^Waiting for clients/);
      assert.ok(waiting !== undefined, shown);
      // The relay wait (5 s) and the publish (10 s) run side by side.
      assert.ok(waiting < 14_000, shown);
      // Nothing is silent for long: each wait is announced within ~2 s of starting.
      const relayWait = at(/^Relay: waiting for http:\/\/10\.78\.0\.9:3340\/ \(up to 5 s\)\.\.\.$/);
      const publishing = at(/^Discovery: publishing to http:\/\/10\.78\.0\.9:3340\/pkarr\.\.\.$/);
      assert.ok(relayWait !== undefined && relayWait < at(/^Relay: http/)! + 3_000, shown);
      assert.ok(publishing !== undefined && publishing < at(/^Relay: http/)! + 3_000, shown);
      const failed = lines.filter((l) => /Cannot publish to http:\/\/10\.78\.0\.9/.test(l.text));
      assert.equal(failed.length, 1, shown);
      assert.match(failed[0].text, /: no answer within 10 s\. .*--server-addr or --relay-url/);
      assert.ok(failed[0].at <= waiting, shown);
      // Never a line that claims the record went out.
      assert.ok(!lines.some((l) => /published to/.test(l.text)), shown);
      // Between two lines no more than a few seconds pass, except inside an announced wait.
      const gaps = lines.slice(1).map((l, i) => ({
        gap: l.at - lines[i].at,
        after: lines[i].text,
      }));
      for (const { gap, after } of gaps) {
        assert.ok(
          gap < 3_000 || /\.\.\.$|within 5 s/.test(after),
          `${gap} ms after '${after}'\n${shown}`,
        );
      }
    }),
});

Deno.test({
  name: "offline: a client's lookup names its cause and gives up with one line",
  ignore: !support,
  fn: () =>
    withDeadUplink(async (host) => {
      const { lines, code } = await linesOf(
        host,
        [...CLIENT_BY_LOOKUP, "--no-reconnect"],
        /^Error:/,
        30_000,
      );
      const shown = lines.map((l) => `${l.at} ms ${l.text}`).join("\n");
      const error = lines.find((l) => l.text.startsWith("Error:"));
      assert.ok(error, shown);
      assert.equal(code, 1, shown);
      assert.match(
        error.text,
        /^Error: Cannot look 2xnbkpbc7izsilvewd7c62w7wnwziacmpfwvhcrya5nt76dqkpga up at http:\/\/10\.78\.0\.9:3340\/pkarr: no answer within 10 s; .*--server-addr HOST:PORT or --relay-url URL$/,
      );
      assert.ok(error.at < 14_000, shown);
    }),
});

Deno.test({
  name: "offline: a client left to retry says why once, with the way around the lookup",
  ignore: !support,
  fn: () =>
    withDeadUplink(async (host) => {
      const { lines } = await linesOf(
        host,
        CLIENT_BY_LOOKUP,
        /^Hint:/,
        30_000,
      );
      const shown = lines.map((l) => `${l.at} ms ${l.text}`).join("\n");
      const notYet = lines.filter((l) => /Cannot connect to server .* yet: /.test(l.text));
      assert.equal(notYet.length, 1, shown);
      assert.match(notYet[0].text, /no answer within 10 s/);
      const hints = lines.filter((l) => l.text.startsWith("Hint:"));
      assert.equal(hints.length, 1, shown);
      assert.match(hints[0].text, /--server-addr HOST:PORT or --relay-url URL$/);
      assert.ok(!lines.some((l) => l.text.startsWith("Error:")), shown);
    }),
});
