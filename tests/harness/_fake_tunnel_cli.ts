// Private to tests/harness: a stand-in for cli/main.ts that speaks the CLI's start-up
// contract, so the harness can be tested before (and independently of) the real CLI.
// Its client really forwards TCP (no QUIC) so payload tests can run through it.
// `--fake-mode fail|hang|ignore-sigint` picks a failure to exercise.
import { writeAll } from "./_write_all.ts";

// Every fake exits on its own after this long, whatever the test does.
const LIFETIME_MS = 60_000;

const [command, ...rest] = Deno.args;
const flag = (name: string) => {
  const at = rest.indexOf(name);
  return at >= 0 ? rest[at + 1] : undefined;
};
const mode = flag("--fake-mode") ?? "ok";

async function main(): Promise<void> {
  if (command === "generate-token") {
    console.log("fakeToken123456789");
    return;
  }
  if (command === "echo-stdin") {
    const text = await new Response(Deno.stdin.readable).text();
    console.log(text.trim());
    return;
  }
  if (mode === "fail") {
    console.error("Error: fake failure requested");
    Deno.exit(2);
  }
  if (mode === "hang") {
    await lifetime();
    return;
  }
  if (command === "server") {
    console.log(`EndpointId: ${"a".repeat(52)}`);
    console.log("Listening on 127.0.0.1:4433");
    console.log("Listening on [::1]:4433");
    console.log("Auth tokens: 1 token(s) configured");
    console.log("Waiting for clients to connect...");
    await lifetime();
    return;
  }
  if (command === "client") {
    const source = new URL(flag("--source")!);
    const [host, port] = splitHostPort(flag("--target")!);
    const listener = Deno.listen({ hostname: host, port });
    console.log(`Tunnel ready: ${host}:${listener.addr.port} -> ${flag("--source")}`);
    const serving = forward(listener, source.hostname, Number(source.port));
    await lifetime();
    listener.close();
    await serving;
    return;
  }
  console.error(`Error: unknown command ${command}`);
  Deno.exit(2);
}

// Installed before any output, so a SIGINT sent right after the ready line is caught.
let interrupted: () => void = () => {};
Deno.addSignalListener("SIGINT", () => {
  if (mode === "ignore-sigint") console.error("ignoring SIGINT");
  else interrupted();
});

function lifetime(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, LIFETIME_MS);
    interrupted = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

function splitHostPort(addr: string): [string, number] {
  const at = addr.lastIndexOf(":");
  return [addr.slice(0, at), Number(addr.slice(at + 1))];
}

async function forward(listener: Deno.Listener, hostname: string, port: number) {
  const open = new Set<Deno.Conn>();
  try {
    // Bounded by the listener being closed at the end of the lifetime.
    for await (const inbound of listener) {
      Deno.connect({ hostname, port }).then(async (outbound) => {
        open.add(inbound).add(outbound);
        await Promise.all([pipe(inbound, outbound), pipe(outbound, inbound)]);
        closeQuietly(inbound);
        closeQuietly(outbound);
      }, () => closeQuietly(inbound));
    }
  } finally {
    for (const conn of open) closeQuietly(conn);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    // Bounded by EOF or a reset on `from`.
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      await writeAll(to, buffer.subarray(0, n));
    }
    await to.closeWrite();
  } catch {
    // Reset: the other direction ends on its own.
  }
}

await main();
Deno.exit(0);
