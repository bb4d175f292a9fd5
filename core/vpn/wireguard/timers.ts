/**
 * WireGuard's timing and counting constants, split as wireguard-go splits
 * them: those the protocol fixes (the WireGuard paper, section 6) and the
 * ones this engine chose. Times are in milliseconds.
 * @module
 */

// From the specification. Both ends must agree on these, so they are not tunable.

/** Messages sent with one key before the initiator starts a new handshake (2^60). */
export const REKEY_AFTER_MESSAGES = 2 ** 60;
/**
 * Messages after which a key is never used again. The paper's 2^64 - 2^13 - 1
 * is beyond JavaScript's exact integers, so counters stop at 2^53 - 1 (see
 * `MAX_COUNTER` of the replay window); no session lives long enough to tell.
 */
export const REJECT_AFTER_MESSAGES = Number.MAX_SAFE_INTEGER;
/** Age of a key after which its initiator starts a new handshake on the next send. */
export const REKEY_AFTER_TIME = 120_000;
/** Age after which a key neither sends nor receives. */
export const REJECT_AFTER_TIME = 180_000;
/** How long an initiator keeps retrying a handshake before it drops queued packets. */
export const REKEY_ATTEMPT_TIME = 90_000;
/** Wait for a handshake response before sending a new initiation. */
export const REKEY_TIMEOUT = 5_000;
/** Quiet time after received data before an empty keepalive confirms it. */
export const KEEPALIVE_TIMEOUT = 10_000;
/** How long a cookie from a cookie reply may be used for mac2 (and the secret's lifetime). */
export const COOKIE_REFRESH_TIME = 120_000;

// Our choice. Values a peer can differ on without breaking the other end.

/**
 * Upper bound of the random extra wait added to {@link REKEY_TIMEOUT}, so two
 * peers whose initiations crossed do not retry in lockstep forever (the
 * paper asks for jitter; wireguard-go draws up to a third of a second).
 */
export const REKEY_TIMEOUT_JITTER_MAX = 334;
/** Initiations sent before giving up: {@link REKEY_ATTEMPT_TIME} / {@link REKEY_TIMEOUT}. */
export const MAX_HANDSHAKE_ATTEMPTS = REKEY_ATTEMPT_TIME / REKEY_TIMEOUT;
/**
 * Keys are zeroed when no new session was derived for this long after the last
 * one; three times {@link REJECT_AFTER_TIME}, as the paper suggests, so a
 * session is surely dead by then.
 */
export const ZERO_KEYS_AFTER = REJECT_AFTER_TIME * 3;
/**
 * Initiations from the peer closer together than this are dropped unread: an
 * honest peer waits {@link REKEY_TIMEOUT} between them, and each costs four
 * X25519 operations (~0.6 ms each in JavaScript). 20 ms (50 per second) is
 * wireguard-go's per-peer limit.
 */
export const MIN_INITIATION_INTERVAL = 20;
/**
 * Handshake messages (with a valid mac1) per second above which the responder
 * is "under load" and answers without a valid mac2 only with a cookie reply.
 * One honest peer sends about one initiation per {@link REKEY_TIMEOUT}, a few
 * at most when both ends start at once, so 8 per second is far above honest
 * traffic while keeping the X25519 work of a flood under ~3% of a core.
 */
export const UNDER_LOAD_HANDSHAKES_PER_SECOND = 8;
/**
 * Stay under load this long after the rate fell again, so a flood that pauses
 * briefly does not get through (wireguard-go keeps the same one second).
 */
export const UNDER_LOAD_AFTER = 1_000;
/**
 * Packets queued while no session can send them. 256 packets of 1,420 bytes
 * (~360 KB) hold a TCP initial window burst or a few; older ones are dropped
 * first, as wireguard-go does, since newer packets are likelier still wanted.
 */
export const MAX_QUEUED_PACKETS = 256;
