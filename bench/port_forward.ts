import { freePort, ManagedProcess, type Sshd, waitForTcpListener } from "../tests/harness/mod.ts";

/** A forwarder process listening on 127.0.0.1:`port`. */
export interface PortForward {
  /** Local port it listens on. */
  port: number;
  /** The forwarder process (stop it when done). */
  process: ManagedProcess;
}

/**
 * `socat TCP-LISTEN:<port>,fork TCP:127.0.0.1:<target>`: a user-space TCP relay, the
 * floor any forwarder pays for copying through user space.
 *
 * @throws {Error} when socat does not listen within 10 s (its stderr included).
 */
export function startSocatForward(targetPort: number): Promise<PortForward> {
  const port = freePort();
  const proc = ManagedProcess.spawn("socat", {
    args: [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${targetPort}`],
    stopSignal: "SIGTERM",
  });
  return listening(proc, port);
}

/**
 * `ssh -N -L 127.0.0.1:<port>:127.0.0.1:<target>` through the throwaway sshd, with
 * OpenSSH's default cipher: the baseline the tunnel is compared with.
 *
 * @throws {Error} when ssh does not listen within 10 s (its stderr included).
 */
export function startSshForward(sshd: Sshd, targetPort: number): Promise<PortForward> {
  const port = freePort();
  const proc = ManagedProcess.spawn("ssh", {
    args: [
      "-N",
      "-o",
      "ExitOnForwardFailure=yes",
      "-L",
      `127.0.0.1:${port}:127.0.0.1:${targetPort}`,
      ...sshd.sshArgs(),
    ],
    stopSignal: "SIGTERM",
  });
  return listening(proc, port);
}

// Waits for the listener without connecting to it (a probe would be forwarded to the
// target, and a one-shot iperf3 server would spend its test on it).
async function listening(proc: ManagedProcess, port: number): Promise<PortForward> {
  const exited = new AbortController();
  proc.status.then(() => exited.abort(new Error(`${proc.command} exited`)));
  try {
    await waitForTcpListener(port, { timeoutMs: 10_000, signal: exited.signal });
    return { port, process: proc };
  } catch (error) {
    await proc.stop();
    throw new Error(
      `Cannot start ${proc.command} forward: ${(error as Error).message}: ` +
        (proc.stderrText().trim() || "no stderr"),
    );
  }
}
