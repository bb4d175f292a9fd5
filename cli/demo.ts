/**
 * The loopback demo behind `deno task demo`: a throwaway HTTP service, a tunnel
 * server with a fresh identity and token, a client, and one page fetched
 * through the tunnel. Server and client run as separate processes with only
 * the forwarding permissions, exactly as a user would run them.
 * @module
 */

import { ENV_VARS } from "./env.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const FORWARDING = [
  "--unstable-net",
  "--allow-net",
  `--allow-env=${ENV_VARS.join(",")}`,
];
/** Bound on every wait, so the demo can never hang. */
const STEP_TIMEOUT_MS = 20_000;

function tunnel(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--config=${CONFIG}`, ...FORWARDING, MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}

/** Echoes a child's stdout with a label and lets the demo wait for a line. */
class LabelledOutput {
  readonly #lines: string[] = [];
  #wake = () => {};
  #ended = false;

  constructor(child: Deno.ChildProcess, label: string) {
    (async () => {
      let buffered = "";
      for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += text;
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        for (const line of parts) {
          console.log(`  ${label} | ${line}`);
          this.#lines.push(line);
        }
        this.#wake();
      }
      this.#ended = true;
      this.#wake();
    })();
  }

  /** The first line matching `pattern` (seen already or still to come). */
  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (let seen = 0;;) {
      for (; seen < this.#lines.length; seen++) {
        const match = pattern.exec(this.#lines[seen]);
        if (match) return match;
      }
      if (this.#ended || Date.now() > deadline) throw new Error(`no line matching ${pattern}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

async function started(child: Deno.ChildProcess, output: LabelledOutput, pattern: RegExp) {
  try {
    return await output.waitFor(pattern);
  } catch {
    const stderr = await new Response(child.stderr).text().catch(() => "");
    throw new Error(`process did not start: ${stderr.trim() || "no output"}`);
  }
}

async function stop(child: Deno.ChildProcess) {
  try {
    child.kill("SIGINT");
  } catch { /* already gone */ }
  const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await child.status;
  clearTimeout(timer);
}

async function main(): Promise<number> {
  const page = `hello through the tunnel (${crypto.randomUUID()})`;
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(page),
  );
  console.log(`1. HTTP service on 127.0.0.1:${http.addr.port}`);

  const token = (await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--config=${CONFIG}`, MAIN, "generate-token"],
  }).output()).stdout;
  const authToken = new TextDecoder().decode(token).trim();
  console.log(`2. auth token ${authToken}`);

  const children: Deno.ChildProcess[] = [];
  try {
    console.log("3. tunnel server (fresh identity, allows 127.0.0.0/8):");
    const server = tunnel([
      "server",
      "--no-relay", // a loopback demo needs no relay and no public discovery
      "--no-dns",
      "--bind",
      "127.0.0.1:0",
      "--allowed-tcp",
      "127.0.0.0/8",
      "--auth-tokens",
      authToken,
    ]);
    children.push(server);
    const serverOutput = new LabelledOutput(server, "server");
    await started(server, serverOutput, /^Waiting for clients/);
    const id = (await serverOutput.waitFor(/^EndpointId: (\S+)/))[1];
    const addr = (await serverOutput.waitFor(/^Listening on (\S+)/))[1];

    console.log(`4. tunnel client, asking for tcp://127.0.0.1:${http.addr.port}:`);
    const client = tunnel([
      "client",
      "--server-node-id",
      id,
      "--no-relay",
      "--no-dns",
      "--server-addr",
      addr,
      "--source",
      `tcp://127.0.0.1:${http.addr.port}`,
      "--target",
      "127.0.0.1:0",
      "--auth-token",
      authToken,
    ]);
    children.push(client);
    const local =
      (await started(client, new LabelledOutput(client, "client"), /^Tunnel ready: (\S+)/))[1];

    const response = await fetch(`http://${local}/`, {
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    const body = await response.text();
    // Give the client a moment to print its per-connection status line.
    await new Promise((r) => setTimeout(r, 300));
    console.log(`5. fetched http://${local}/ -> "${body}"`);
    console.log(
      `   path: HTTP client -> ${local} (tunnel client) => QUIC, pinned to ${id.slice(0, 8)}…, ` +
        `direct over loopback to ${addr} (tunnel server) -> 127.0.0.1:${http.addr.port} (HTTP service)`,
    );
    if (body !== page) throw new Error("the page came back altered");
    console.log("Demo finished: the page crossed the tunnel intact.");
    return 0;
  } catch (error) {
    console.error(`Demo failed: ${(error as Error).message}`);
    return 1;
  } finally {
    for (const child of children.reverse()) await stop(child);
    await http.shutdown();
  }
}

if (import.meta.main) Deno.exit(await main());
