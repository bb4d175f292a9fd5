/**
 * Measuring from a bed host what its NAT does: the RFC 4787 / RFC 5780 mapping and
 * filtering behaviour (with the _probe_server / _probe_client pair), and the address a
 * real STUN server (coturn) reports.
 * @module
 */
import type { Bed, BedHost } from "./bed.ts";

/** RFC 4787 behaviour of a NAT mapping or filter. */
export type NatBehaviour =
  | "endpoint-independent"
  | "address-dependent"
  | "address-and-port-dependent";

/** Raw output of _probe_client.ts. */
export interface NatObservation {
  /** Mapped address seen at (ip1,port1), (ip1,port2), (ip2,port1), from one socket. */
  mapped: [string, string, string];
  /** An answer from the other ip and other port reached a fresh mapping. */
  altIpPort: boolean;
  /** An answer from the same ip, other port reached a fresh mapping. */
  altPort: boolean;
}

/** Classified behaviour plus the observation it came from. */
export interface NatProbeResult {
  mapping: NatBehaviour;
  filtering: NatBehaviour;
  observation: NatObservation;
}

/** RFC 5780 section 4.3 / 4.4 reasoning over one observation. */
export function classify(o: NatObservation): { mapping: NatBehaviour; filtering: NatBehaviour } {
  const [a, b, c] = o.mapped;
  const mapping = a === b && a === c
    ? "endpoint-independent"
    : a === b
    ? "address-dependent"
    : "address-and-port-dependent";
  const filtering = o.altIpPort
    ? "endpoint-independent"
    : o.altPort
    ? "address-dependent"
    : "address-and-port-dependent";
  return { mapping, filtering };
}

function denoRun(script: string, args: string[]): string[] {
  const path = decodeURIComponent(new URL(script, import.meta.url).pathname);
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-config", // the scripts need nothing from the project's deno.json or lock file
    "--no-lock",
    "--unstable-net", // Deno.listenDatagram
    "--allow-net",
    path,
    ...args,
  ];
}

async function startProbeServer(bed: Bed, ports: [number, number]) {
  const child = bed.spawn(
    "public",
    denoRun("./_probe_server.ts", [...bed.publicHost.ips, ...ports.map(String)]),
  );
  const stderr = new Response(child.stderr).text();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await stdout.cancel().catch(() => {});
    await child.status;
    return await stderr;
  };
  const timer = setTimeout(() => stop(), 15_000);
  let text = "";
  while (!text.includes("ready")) {
    const chunk = await stdout.read().catch(() => ({ done: true, value: undefined }));
    if (chunk.done) break;
    text += chunk.value;
  }
  clearTimeout(timer);
  if (!text.includes("ready")) throw new Error(`probe server did not start: ${await stop()}`);
  return { stop };
}

/**
 * Runs the NAT behaviour probe from `host` against a probe server on the public host's two
 * addresses x `ports` (which must be free there). Bounded: about 30 s at worst.
 */
export async function probeNat(
  bed: Bed,
  host: BedHost,
  ports: [number, number] = [40001, 40002],
): Promise<NatProbeResult> {
  const server = await startProbeServer(bed, ports);
  try {
    const args = [...bed.publicHost.ips, ...ports.map(String)];
    const out = await bed.exec(host, denoRun("./_probe_client.ts", args), { timeoutMs: 30_000 });
    if (out.code !== 0) throw new Error(`probe client failed (${out.code}): ${out.stderr}`);
    const observation = JSON.parse(out.stdout.trim().split("\n").pop()!) as NatObservation;
    return { ...classify(observation), observation };
  } finally {
    await server.stop();
  }
}

/** Sends a STUN Binding Request from `host` and returns the XOR-MAPPED-ADDRESS ("ip:port"). */
export async function stunMappedAddress(
  bed: Bed,
  host: BedHost,
  server: string = bed.stunServer,
): Promise<string> {
  const out = await bed.exec(host, denoRun("./_stun_client.ts", [server]), { timeoutMs: 20_000 });
  if (out.code !== 0) throw new Error(`STUN client failed (${out.code}): ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").pop()!).mapped;
}
