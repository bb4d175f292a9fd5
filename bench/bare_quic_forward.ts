import { ManagedProcess } from "../tests/harness/mod.ts";

/** The bare-QUIC forwarder (`_bare_quic.ts`): its two processes and its local port. */
export interface BareQuicForward {
  /** Local port the client process listens on. */
  port: number;
  /** Stops both processes. */
  stop(): Promise<void>;
}

const PROGRAM = new URL("./_bare_quic.ts", import.meta.url).pathname;
// The tunnel's processes get no more than network access either.
const FLAGS = ["run", "--unstable-net", "--allow-net"];
// Type-checking and loading the identity module is the slow part of a start.
const READY_TIMEOUT_MS = 20_000;

/** Where {@linkcode startBareQuicForward} runs its two processes. */
export interface BareQuicPlacement {
  /** The server binds it, forwards to it and the client dials it. Default `127.0.0.1`. */
  host?: string;
  /** Network namespaces of the server and the client (`ip netns exec`); default: this one. */
  namespaces?: { server: string; client: string };
}

/**
 * Starts `_bare_quic.ts` as a server process forwarding to `host`:`targetPort` and
 * a client process dialing it: a minimal TCP forwarder over one Deno QUIC connection
 * with no tunnel logic, the ceiling the tunnel rows are compared with. The client
 * listens on 127.0.0.1 (of its namespace).
 *
 * @throws {Error} "Cannot start the bare-QUIC forwarder: ..." when either process does
 * not print its ready line within 20 s (its stderr included).
 */
export async function startBareQuicForward(
  targetPort: number,
  placement: BareQuicPlacement = {},
): Promise<BareQuicForward> {
  const host = placement.host ?? "127.0.0.1";
  // `ip netns exec` execs the command, so stopping it stops deno.
  const spawn = (ns: string | undefined, args: string[]) => {
    const deno = [Deno.execPath(), ...FLAGS, PROGRAM, ...args];
    return ns === undefined
      ? ManagedProcess.spawn(deno[0], { args: deno.slice(1), graceMs: 1_000 })
      : ManagedProcess.spawn("ip", { args: ["netns", "exec", ns, ...deno], graceMs: 1_000 });
  };
  const started: ManagedProcess[] = [];
  const stop = async () => {
    for (const proc of started.reverse()) await proc.stop();
  };
  try {
    const server = spawn(placement.namespaces?.server, ["server", String(targetPort), host]);
    started.push(server);
    const serverLine = await ready(server, /^bare-quic server \d+ \S+$/);
    const [, , serverPort, endpointId] = serverLine.split(" ");
    const client = spawn(placement.namespaces?.client, ["client", serverPort, endpointId, host]);
    started.push(client);
    const clientLine = await ready(client, /^bare-quic client \d+$/);
    return { port: Number(clientLine.split(" ")[2]), stop };
  } catch (error) {
    const stderr = started.map((proc) => proc.stderrText().trim()).filter(Boolean).join("; ");
    await stop();
    throw new Error(
      `Cannot start the bare-QUIC forwarder: ${(error as Error).message}` +
        (stderr ? `: ${stderr.split("\n")[0]}` : ""),
    );
  }
}

async function ready(proc: ManagedProcess, line: RegExp): Promise<string> {
  return await proc.waitForLine(line, { stream: "stdout", timeoutMs: READY_TIMEOUT_MS });
}
