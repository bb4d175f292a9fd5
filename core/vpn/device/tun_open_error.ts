/**
 * One-line messages for the ways creating a TUN device fails, by errno.
 * @module
 */

/** Message when the process lacks the privilege to create interfaces. */
export const TUN_PERMISSION_MESSAGE =
  "Cannot create TUN device: needs root or CAP_NET_ADMIN (run with sudo)";

/** Which system call failed: opening the clone device, or creating the interface. */
export type TunOpenStep = "open" | "create";

/** errno names the message depends on (values differ between systems). */
export interface TunErrnos {
  EPERM: number;
  EACCES: number;
  ENOENT: number;
  ENODEV: number;
  EBUSY: number;
  EINVAL: number;
}

/**
 * The error to show for a failed step: permission first, since that is by far
 * the most common cause; the system's own text for anything unexpected.
 *
 * @example
 * ```ts
 * tunOpenError("create", 1, { name: "tun0", errnos, text: "Operation not permitted" }).message;
 * // "Cannot create TUN device: needs root or CAP_NET_ADMIN (run with sudo)"
 * ```
 */
export function tunOpenError(
  step: TunOpenStep,
  code: number,
  context: { name: string; errnos: TunErrnos; text: string; device?: string },
): Error {
  const { errnos: e, name } = context;
  const device = context.device ?? "/dev/net/tun";
  if (code === e.EPERM || code === e.EACCES) return new Error(TUN_PERMISSION_MESSAGE);
  if (step === "open" && code === e.ENOENT) {
    return new Error(
      `Cannot create TUN device: ${device} does not exist (load the tun module: modprobe tun; in a container, pass the device in)`,
    );
  }
  if (code === e.ENODEV) {
    return new Error("Cannot create TUN device: the kernel has no TUN support (modprobe tun)");
  }
  if (step === "create" && code === e.EBUSY) {
    return new Error(`Cannot create TUN device: '${name}' is in use (choose another name)`);
  }
  if (step === "create" && code === e.EINVAL) {
    return new Error(
      `Cannot create TUN device: '${name}' exists and is not a TUN device (choose another name)`,
    );
  }
  return new Error(`Cannot create TUN device${name ? ` '${name}'` : ""}: ${context.text}`);
}
