/**
 * Starting and stopping coturn's `turnserver` as a plain STUN server inside a namespace.
 * @module
 */
import { run, tool } from "./command.ts";

/** A running STUN server. */
export interface StunProcess {
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 2 s; waits for the exit. Safe to call twice. */
  stop(): Promise<void>;
}

/** Where and how to run the server. `dir` receives its log, pid file and user database. */
export interface StunOptions {
  ns: string;
  ips: readonly string[];
  port: number;
  dir: string;
}

function stunArgs(o: StunOptions): string[] {
  return [
    "-n", // no configuration file: /etc/turnserver.conf must not change the bed
    "--stun-only",
    "--no-auth",
    "--no-tls",
    "--no-dtls",
    "--no-cli", // the CLI would listen on 127.0.0.1:5766
    ...o.ips.flatMap((ip) => ["-L", ip]),
    "-p",
    String(o.port),
    "--log-file",
    `${o.dir}/turnserver.log`,
    "--simple-log",
    "--pidfile",
    `${o.dir}/turnserver.pid`,
    // Otherwise it opens the system database in /var/lib/turn.
    "--db",
    `${o.dir}/turndb`,
    "--no-software-attribute",
  ];
}

async function listening(ns: string, endpoints: string[]): Promise<boolean> {
  const out = await run([
    tool("ip", "iproute2"),
    "netns",
    "exec",
    ns,
    tool("ss", "iproute2"),
    "-Hlun",
  ]);
  const local = new Set(out.stdout.split("\n").map((line) => line.trim().split(/\s+/)[3]));
  return endpoints.every((e) => local.has(e));
}

/**
 * Starts `turnserver` in STUN-only mode on `ips` x `port` (coturn also answers RFC 5780
 * CHANGE-REQUEST on `port + 1`) and resolves once every UDP listener is bound.
 */
export async function startStunServer(o: StunOptions, timeoutMs = 10_000): Promise<StunProcess> {
  const child = new Deno.Command(tool("ip", "iproute2"), {
    args: ["netns", "exec", o.ns, tool("turnserver", "coturn"), ...stunArgs(o)],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 2_000);
      await status;
      clearTimeout(timer);
    })();
  const endpoints = o.ips.map((ip) => `${ip}:${o.port}`);
  const deadline = Date.now() + timeoutMs;
  while (!(await listening(o.ns, endpoints))) {
    if (exited || Date.now() > deadline) {
      await stop();
      const log = await Deno.readTextFile(`${o.dir}/turnserver.log`).catch(() => "(no log)");
      throw new Error(`turnserver did not listen on ${endpoints.join(", ")}\n${log.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { pid: child.pid, stop };
}
