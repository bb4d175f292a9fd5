/**
 * One VPN client per machine: two would fight over routes. The lock is the
 * kernel's (`flock` on a file), so it dies with its process, however that
 * process ends: a file left by a crashed run is stale by construction and is
 * simply taken over. The file holds the holder's process id, for the message
 * the next client prints.
 * @module
 */

/** A held lock; release it on exit (the kernel does if the process dies first). */
export interface InstanceLock {
  /** The lock file. */
  readonly path: string;
  /** Whether the file was left by a run that ended without releasing it. */
  readonly tookOverStale: boolean;
  /** Releases the lock and removes the file. */
  release(): void;
}

/** Another process holds the lock. */
export class LockHeldError extends Error {
  /** Always "LockHeldError". */
  override name = "LockHeldError";
}

/**
 * Takes the lock at `path` for this process.
 * @throws {LockHeldError} when another process holds it
 * @throws {Error} when the file cannot be opened ("Cannot create lock file …")
 */
export async function takeInstanceLock(path: string): Promise<InstanceLock> {
  let file: Deno.FsFile;
  let existed = true;
  try {
    await Deno.lstat(path);
  } catch {
    existed = false;
  }
  try {
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o644 });
  } catch (error) {
    throw new Error(`Cannot create lock file '${path}': ${(error as Error).message}`);
  }
  if (!await file.tryLock(true)) {
    const holder = await readHolder(file);
    file.close();
    throw new LockHeldError(
      `Another VPN client is running${
        holder ? ` (process ${holder})` : ""
      }: only one may run per machine (lock ${path}); stop it first`,
    );
  }
  const stale = existed && (await readHolder(file)) !== undefined;
  await file.truncate(0);
  await file.seek(0, Deno.SeekMode.Start);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  let held = true;
  return {
    path,
    tookOverStale: stale,
    release() {
      if (!held) return;
      held = false;
      try {
        Deno.removeSync(path);
      } catch {
        // Already gone: nothing to tidy.
      }
      file.close();
    },
  };
}

async function readHolder(file: Deno.FsFile): Promise<number | undefined> {
  try {
    await file.seek(0, Deno.SeekMode.Start);
    const buffer = new Uint8Array(32);
    const read = await file.read(buffer);
    const pid = Number.parseInt(new TextDecoder().decode(buffer.subarray(0, read ?? 0)), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
