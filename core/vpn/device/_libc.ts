/**
 * The few libc calls both TUN implementations share,
 * through Deno FFI (`--allow-ffi`). Linux's glibc and macOS's libSystem agree
 * on these signatures except `nfds_t` and the name of the errno accessor.
 * @module
 */

const darwin = Deno.build.os === "darwin";

/** Path `Deno.dlopen` takes for the C library on this system. */
export const LIBC_PATH = darwin ? "/usr/lib/libSystem.B.dylib" : "libc.so.6";

/** `poll()` event bits: identical on Linux and macOS. */
export const POLLIN = 0x1;
/** Error conditions `poll()` reports whatever events were asked for. */
export const POLL_FAILURES = 0x8 | 0x10 | 0x20; // POLLERR | POLLHUP | POLLNVAL

/** errno values the callers tell apart; the others become their message. */
export const ERRNO = darwin
  ? {
    EPERM: 1,
    ENOENT: 2,
    EINTR: 4,
    EBADF: 9,
    EACCES: 13,
    EBUSY: 16,
    ENODEV: 19,
    EINVAL: 22,
    EAGAIN: 35,
  }
  : {
    EPERM: 1,
    ENOENT: 2,
    EINTR: 4,
    EBADF: 9,
    EACCES: 13,
    EBUSY: 16,
    ENODEV: 19,
    EINVAL: 22,
    EAGAIN: 11,
    EBADFD: 77,
  };

const SYMBOLS = {
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  pipe: { parameters: ["buffer"], result: "i32" },
  errnoLocation: {
    name: darwin ? "__error" : "__errno_location",
    parameters: [],
    result: "pointer",
  },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** The shared symbols, bound. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let bound: Libc | undefined;

/**
 * Binds the shared symbols once per isolate.
 * @throws {Deno.errors.NotCapable} without `--allow-ffi`.
 */
export function libc(): Libc {
  return bound ??= Deno.dlopen(LIBC_PATH, SYMBOLS).symbols;
}

/** The calling thread's errno; read it right after the failed call. */
export function errno(): number {
  const pointer = libc().errnoLocation();
  return pointer === null ? 0 : new Deno.UnsafePointerView(pointer).getInt32();
}

/** The system's text for an errno value ("Operation not permitted"). */
export function errnoText(code: number): string {
  const pointer = libc().strerror(code);
  return pointer === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(pointer);
}
