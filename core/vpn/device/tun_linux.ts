/**
 * Linux TUN devices through `/dev/net/tun` and Deno FFI.
 * @module
 */
import { ERRNO, errno, errnoText, libc, LIBC_PATH } from "./_libc.ts";
import { FdTunDevice } from "./_fd_tun_device.ts";
import { decodeIfreqName, encodeIfreq, IFF_NO_PI, IFF_TUN, TUNSETIFF } from "./ifreq_linux.ts";
import type { TunDevice } from "./tun_device.ts";
import { tunOpenError } from "./tun_open_error.ts";

const O_RDWR = 0x2;
// Reads drain what is waiting and must not block when nothing is.
const O_NONBLOCK = 0x800;
// Child processes (ip, iptables) must not inherit the device and keep it alive.
const O_CLOEXEC = 0x80000;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  // ioctl is variadic; on Linux (x86_64 and aarch64) a pointer argument travels
  // like a named one, so a fixed signature is enough.
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
} as const;

let bound: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | undefined;

/** Options of {@link openLinuxTun}. */
export interface LinuxTunOptions {
  /** Interface name, or a template with `%d` for the kernel to number. Default `tun%d`. */
  name?: string;
  /** MTU the device is configured with (the caller sets it on the interface). */
  mtu: number;
}

/**
 * Creates a TUN interface (down, without addresses); it disappears when the
 * device is closed or the process exits, however it exits.
 *
 * @throws {Error} one line: "Cannot create TUN device: needs root or CAP_NET_ADMIN (run with sudo)",
 *   a missing `/dev/net/tun`, a name in use. `Deno.errors.NotCapable` without `--allow-ffi`.
 * @example
 * ```ts ignore
 * const tun = openLinuxTun({ name: "tun%d", mtu: 1420 });
 * console.log(tun.name); // "tun0"
 * ```
 */
export function openLinuxTun(options: LinuxTunOptions): TunDevice {
  const name = options.name ?? "tun%d";
  const ifr = encodeIfreq(name, IFF_TUN | IFF_NO_PI);
  const sys = bound ??= Deno.dlopen(LIBC_PATH, SYMBOLS).symbols;
  const fail = (step: "open" | "create") => {
    const code = errno();
    return tunOpenError(step, code, { name, errnos: ERRNO, text: errnoText(code) });
  };
  const fd = sys.open(new TextEncoder().encode("/dev/net/tun\0"), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw fail("open");
  if (sys.ioctl(fd, BigInt(TUNSETIFF), ifr) < 0) {
    const error = fail("create");
    libc().close(fd);
    throw error;
  }
  return new FdTunDevice(fd, { name: decodeIfreqName(ifr), mtu: options.mtu });
}
