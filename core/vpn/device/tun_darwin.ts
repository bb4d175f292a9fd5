/**
 * macOS utun devices through the kernel control socket and Deno FFI.
 * Untested here (no macOS in CI); kept small and typed.
 * @module
 */
import { ERRNO, errno, errnoText, libc, LIBC_PATH } from "./_libc.ts";
import { FdTunDevice } from "./_fd_tun_device.ts";
import type { TunDevice } from "./tun_device.ts";
import { tunOpenError } from "./tun_open_error.ts";

const PF_SYSTEM = 32;
const AF_SYS_CONTROL = 2;
const SOCK_DGRAM = 2;
const SYSPROTO_CONTROL = 2;
const UTUN_OPT_IFNAME = 2;
/** `_IOWR('N', 3, struct ctl_info)`: control name to id. */
const CTLIOCGINFO = 0xc0644e03n;
/** `_IOW('f', 126, int)`: set non-blocking. */
const FIONBIO = 0x8004667en;
/** `_IO('f', 1)`: set close-on-exec, so `ifconfig` and `route` do not inherit the device. */
const FIOCLEX = 0x20006601n;
const AF_INET = 2;
const AF_INET6 = 30;
const UTUN_CONTROL = "com.apple.net.utun_control";

// ioctl is variadic. Apple's arm64 ABI passes variadic arguments on the stack, so
// six unused register arguments push the real one past x0-x7; x86_64 passes it in
// a register like a named one.
const PAD = Deno.build.arch === "aarch64" ? 6 : 0;
const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  ioctl: {
    parameters: ["i32", "u64", ...Array<"u64">(PAD).fill("u64"), "buffer"],
    result: "i32",
  },
} as const;

let bound: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | undefined;

/** Options of {@link openDarwinTun}. */
export interface DarwinTunOptions {
  /** `utunN` to create, or undefined for the first free unit. */
  name?: string;
  /** MTU the device is configured with. */
  mtu: number;
}

/**
 * Creates a utun interface; it disappears when the device is closed or the
 * process exits.
 *
 * @throws {Error} one line: "Cannot create TUN device: needs root or CAP_NET_ADMIN (run with sudo)",
 *   a unit in use, or the system's text.
 * @example
 * ```ts ignore
 * const tun = openDarwinTun({ mtu: 1420 }); // tun.name: "utun7"
 * ```
 */
export function openDarwinTun(options: DarwinTunOptions): TunDevice {
  const unit = unitOf(options.name);
  const sys = bound ??= Deno.dlopen(LIBC_PATH, SYMBOLS).symbols;
  const ioctl = (fd: number, request: bigint, arg: Uint8Array) =>
    (sys.ioctl as (...args: unknown[]) => number)(fd, request, ...Array(PAD).fill(0n), arg);
  const name = options.name ?? "utun";
  const fail = (fd: number) => {
    const code = errno();
    if (fd >= 0) libc().close(fd);
    return tunOpenError("create", code, {
      name,
      errnos: ERRNO,
      text: errnoText(code),
      device: "the utun control socket",
    });
  };
  const fd = sys.socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL);
  if (fd < 0) throw fail(fd);
  // struct ctl_info { u_int32_t ctl_id; char ctl_name[96]; }
  const info = new Uint8Array(100);
  info.set(new TextEncoder().encode(UTUN_CONTROL), 4);
  if (ioctl(fd, CTLIOCGINFO, info) < 0) throw fail(fd);
  // struct sockaddr_ctl { u_char sc_len, sc_family; u_int16_t ss_sysaddr; u_int32_t sc_id, sc_unit, sc_reserved[5]; }
  const address = new Uint8Array(32);
  const view = new DataView(address.buffer);
  address[0] = 32;
  address[1] = PF_SYSTEM;
  view.setUint16(2, AF_SYS_CONTROL, true);
  view.setUint32(4, new DataView(info.buffer).getUint32(0, true), true);
  view.setUint32(8, unit, true); // utunN is unit N + 1; 0 lets the kernel choose
  if (sys.connect(fd, address, 32) < 0) throw fail(fd);
  const one = new Uint8Array(new Int32Array([1]).buffer);
  if (ioctl(fd, FIONBIO, one) < 0 || ioctl(fd, FIOCLEX, one) < 0) throw fail(fd);
  const ifname = new Uint8Array(32);
  const length = new Uint8Array(new Uint32Array([ifname.length]).buffer);
  if (sys.getsockopt(fd, SYSPROTO_CONTROL, UTUN_OPT_IFNAME, ifname, length) < 0) throw fail(fd);
  const end = ifname.indexOf(0);
  return new FdTunDevice(fd, {
    name: new TextDecoder().decode(ifname.subarray(0, end < 0 ? ifname.length : end)),
    mtu: options.mtu,
    headerBytes: 4,
    writePacket: framedWriter(),
  });
}

function unitOf(name: string | undefined): number {
  if (name === undefined) return 0;
  const match = /^utun([0-9]{1,4})$/.exec(name);
  if (!match) {
    throw new TypeError(`Invalid interface name '${name}': macOS names utun devices utunN`);
  }
  return Number(match[1]) + 1;
}

/** Writes with the 4-byte address family utun expects before each packet. */
function framedWriter(): (fd: number, packet: Uint8Array) => boolean {
  const frame = new Uint8Array(4 + 65_535);
  const view = new DataView(frame.buffer);
  return (fd, packet) => {
    if (packet.length === 0 || packet.length > 65_535) return false;
    view.setUint32(0, packet[0] >> 4 === 6 ? AF_INET6 : AF_INET);
    frame.set(packet, 4);
    return Number(libc().write(fd, frame, BigInt(4 + packet.length))) >= 0;
  };
}
