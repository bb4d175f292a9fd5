/**
 * UDP datagrams a namespace's kernel dropped because a socket's receive buffer was full
 * (`RcvbufErrors` of `/proc/net/snmp`): evidence of what bounds QUIC in the WAN table,
 * since Deno leaves its QUIC socket at the kernel's default buffer (`net.core.rmem_default`).
 * @module
 */

/**
 * The `Udp: RcvbufErrors` counter from the text of `/proc/net/snmp`.
 * @throws {Error} when the text has no such counter.
 */
export function parseUdpRcvbufErrors(snmp: string): number {
  const lines = snmp.split("\n").filter((line) => line.startsWith("Udp: "));
  if (lines.length < 2) throw new Error("Cannot read UDP counters: no Udp lines in /proc/net/snmp");
  const names = lines[0].trim().split(/\s+/);
  const values = lines[1].trim().split(/\s+/);
  const at = names.indexOf("RcvbufErrors");
  const value = Number(values[at]);
  if (at < 0 || !Number.isSafeInteger(value)) {
    throw new Error("Cannot read UDP counters: no RcvbufErrors in /proc/net/snmp");
  }
  return value;
}

/** Runs a command in a namespace, as `WanPair.exec` does. */
export type NamespaceExec = (
  host: { readonly ns: string },
  cmd: string[],
) => Promise<{ code: number; stdout: string; stderr: string }>;

/**
 * Reads `RcvbufErrors` in `host`'s namespace.
 * @throws {Error} when the counters cannot be read.
 */
export async function readUdpRcvbufErrors(
  exec: NamespaceExec,
  host: { readonly ns: string },
): Promise<number> {
  const result = await exec(host, ["cat", "/proc/net/snmp"]);
  if (result.code !== 0) throw new Error(`Cannot read /proc/net/snmp: ${result.stderr.trim()}`);
  return parseUdpRcvbufErrors(result.stdout);
}
