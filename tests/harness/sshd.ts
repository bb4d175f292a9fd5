import { freePort } from "./free_port.ts";
import { ManagedProcess } from "./managed_process.ts";
import { runCommand } from "./run_command.ts";

/** Options for {@linkcode startSshd}. */
export interface SshdOptions {
  /** sshd binary; must be an absolute path (sshd re-executes itself). Default `/usr/sbin/sshd`. */
  sshdPath?: string;
  /** Bound on start-up. Default 10,000 ms. */
  timeoutMs?: number;
  /** More `sshd_config` lines, appended last. */
  extraConfig?: string[];
  /** Command prefix to run sshd under, e.g. `["ip", "netns", "exec", "ns1"]`. */
  wrap?: string[];
}

/** A throwaway OpenSSH server on 127.0.0.1 that admits root with one generated key. */
export interface Sshd extends AsyncDisposable {
  /** Port sshd listens on. */
  readonly port: number;
  /** Temporary directory holding keys and config (removed by `stop()`). */
  readonly dir: string;
  /** Private key accepted for root. */
  readonly keyFile: string;
  /** `root@127.0.0.1`. */
  readonly destination: string;
  /**
   * `ssh` arguments ending with the destination; append a remote command, or put
   * `-N -L ...` before them. `port` defaults to sshd's own (pass a tunnel's local port).
   */
  sshArgs(port?: number): string[];
  /** `scp` options (no destination): add `local root@127.0.0.1:/path` yourself. */
  scpArgs(port?: number): string[];
  /** Stdout/stderr lines of sshd (`-e` logs to stderr). */
  log(): string[];
  /** SIGTERM (sshd ignores SIGINT), await exit, remove the directory. */
  stop(): Promise<void>;
}

// sshd refuses to start without its privilege-separation directory; Debian creates it
// from the service unit, which never ran in a container.
const PRIVSEP_DIR = "/run/sshd";
// A port picked by freePort() can be taken before sshd binds it: retry a few times.
const MAX_ATTEMPTS = 3;
const LISTENING = /^Server listening on 127\.0\.0\.1 port (\d+)\.$/;

/**
 * Starts `sshd -D -e -f <own config>` as root on a free 127.0.0.1 port, with a fresh
 * ed25519 host key and a fresh client key in `authorized_keys` (key login only).
 *
 * @throws {Error} "Cannot start sshd: ..." with sshd's stderr when it does not come up.
 * @example
 * ```ts
 * await using sshd = await startSshd();
 * const out = await runCommand("ssh", { args: [...sshd.sshArgs(), "echo", "hello"] });
 * ```
 */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  await Deno.mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const dir = await Deno.makeTempDir({ prefix: "tunnel-sshd-" });
  try {
    const hostKey = `${dir}/host_ed25519`;
    const keyFile = `${dir}/client_ed25519`;
    await keygen(hostKey);
    await keygen(keyFile);
    await Deno.copyFile(`${keyFile}.pub`, `${dir}/authorized_keys`);
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const port = freePort();
      const config = `${dir}/sshd_config`;
      await Deno.writeTextFile(config, sshdConfig(dir, port, hostKey, options.extraConfig));
      const command = [
        ...(options.wrap ?? []),
        options.sshdPath ?? "/usr/sbin/sshd",
        "-D",
        "-e",
        "-f",
        config,
      ];
      const proc = ManagedProcess.spawn(command[0], {
        args: command.slice(1),
        stopSignal: "SIGTERM",
      });
      try {
        await proc.waitForLine(LISTENING, { stream: "stderr", timeoutMs: options.timeoutMs });
        return makeSshd(proc, dir, port, keyFile);
      } catch (error) {
        await proc.stop();
        lastError = error;
        if (!proc.stderrText().includes("Address already in use")) break;
      }
    }
    throw new Error(`Cannot start sshd: ${(lastError as Error).message}`, { cause: lastError });
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

function makeSshd(proc: ManagedProcess, dir: string, port: number, keyFile: string): Sshd {
  const common = [
    "-F", // no user or system ssh_config: the test controls every option
    "none",
    "-i",
    keyFile,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR", // no "Permanently added ..." warning on every run
  ];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      try {
        await proc.stop();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    })();
  return {
    port,
    dir,
    keyFile,
    destination: "root@127.0.0.1",
    sshArgs: (p = port) => [...common, "-p", String(p), "root@127.0.0.1"],
    scpArgs: (p = port) => [...common, "-P", String(p)],
    log: () => [...proc.lines("stdout"), ...proc.lines("stderr")],
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function keygen(file: string): Promise<void> {
  const result = await runCommand("ssh-keygen", {
    args: ["-q", "-t", "ed25519", "-N", "", "-C", "tunnel-test", "-f", file],
    timeoutMs: 10_000,
  });
  if (result.code !== 0) throw new Error(`Cannot generate ${file}: ${result.stderr.trim()}`);
}

function sshdConfig(dir: string, port: number, hostKey: string, extra: string[] = []): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKey}`,
    "PidFile none",
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    "PermitRootLogin prohibit-password",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    // The temp dir and its files are not owned the way StrictModes insists on.
    "StrictModes no",
    "AllowTcpForwarding yes",
    "PrintMotd no",
    "UseDNS no",
    // Benchmarks and tests open many connections at once.
    "MaxStartups 100",
    "MaxSessions 100",
    // OpenSSH 9 scp speaks SFTP by default.
    "Subsystem sftp /usr/lib/openssh/sftp-server",
    "LogLevel INFO",
    ...extra,
    "",
  ].join("\n");
}
