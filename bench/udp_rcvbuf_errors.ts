/**
 * The kernel's count of UDP datagrams dropped because a socket's receive buffer was full
 * (`Udp: RcvbufErrors` of `/proc/net/snmp`), per network namespace: read before and
 * after a test, it says how many datagrams a receiving socket in that namespace lost.
 * @module
 */
import { runInNamespace } from "../tests/netns/command.ts";

/**
 * `RcvbufErrors` from the text of `/proc/net/snmp` (a `Udp:` header line of field names,
 * then a `Udp:` line of values).
 *
 * @throws {Error} "Cannot read RcvbufErrors from /proc/net/snmp: ..." when the lines or
 *   the field are missing or the value is not a number.
 */
export function parseRcvbufErrors(snmp: string): number {
  const lines = snmp.split("\n").filter((line) => line.startsWith("Udp: "));
  if (lines.length < 2) {
    throw new Error("Cannot read RcvbufErrors from /proc/net/snmp: no Udp lines");
  }
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  const at = names.indexOf("RcvbufErrors");
  if (at < 0) throw new Error("Cannot read RcvbufErrors from /proc/net/snmp: no such field");
  const value = Number(values[at]);
  if (!Number.isSafeInteger(value)) {
    throw new Error(`Cannot read RcvbufErrors from /proc/net/snmp: ${values[at]} is not a count`);
  }
  return value;
}

/**
 * The `RcvbufErrors` count of namespace `ns` (`/proc/net` follows the reader's namespace).
 *
 * @throws {Error} when `cat` fails or the count cannot be read.
 */
export async function rcvbufErrorsIn(ns: string): Promise<number> {
  const result = await runInNamespace(ns, ["cat", "/proc/net/snmp"]);
  if (result.code !== 0) {
    throw new Error(`Cannot read /proc/net/snmp in ${ns}: ${result.stderr.trim()}`);
  }
  return parseRcvbufErrors(result.stdout);
}
