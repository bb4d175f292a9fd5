// Private to tests/harness: the Nostr relay process that startNostrRelay()
// (../nostr_relay.ts) runs. The relay is @nostr-relay/core (NIP-01: EVENT with OK,
// REQ with EOSE, CLOSE, id and signature checks), its messages checked by
// @nostr-relay/validator, served over Deno's WebSocket upgrade on loopback.
// Run it only with this folder's deno.json (it says why), never import it.
//
//   deno run --config deno.json --allow-net=127.0.0.1 relay_process.ts \
//     [--hostname H] [--port N] [--ignore-live-tag-filters] [--drop-first-req]
//     [--rate-limit EVENTS/MS] [--rate-limit-answer ok|notice|closed] [--log-events]
//
// Switchable misbehaviours of relays met in the wild, the relay staying real
// otherwise: --drop-first-req ignores the first REQ of every connection (a
// subscription lost at connect); --rate-limit lets each public key publish at
// most EVENTS ephemeral events (kinds 20000-29999) in any MS window and
// refuses the rest, as nostream does, with ["OK", id, false, "rate-limited: ..."]
// (ok, the default), a NOTICE (notice), or a NOTICE and then a CLOSED of every
// subscription on that connection (closed). --log-events prints one stdout line
// per EVENT received ("event PUBKEY KIND ID MS"), per refusal ("rate-limited
// PUBKEY ID MS") and per REQ dropped ("dropped REQ SUBID MS"), MS the time
// (ms since the epoch), for tests to count and time.
//
// Prints "nostr relay listening on ws://HOST:PORT" once it accepts
// connections. SIGINT ends it at once (the clients' connections drop); SIGTERM
// closes every connection with a close frame first.
import {
  type Client,
  type ClientReadyState,
  createOutgoingNoticeMessage,
  type Filter,
  LogLevel,
} from "@nostr-relay/common";
import { NostrRelay } from "@nostr-relay/core";
import { Validator } from "@nostr-relay/validator";
import { matchFilters } from "nostr-tools/filter";
import { MemoryEventStore } from "./memory_event_store.ts";

// Clients on loopback answer a close frame within milliseconds; a stuck one must
// not hold a restart for long.
const CLOSE_WAIT_MS = 1_000;

/** Arguments of the process. */
interface NostrRelayProcessArgs {
  /** Address to bind; default 127.0.0.1. */
  hostname: string;
  /** Port to bind on 127.0.0.1; 0 lets the OS pick. */
  port: number;
  /** Whether live events are checked against the subscription's tag filters too. */
  liveTagFilters: boolean;
  /** Ignore each connection's first REQ. */
  dropFirstReq: boolean;
  /** Ephemeral events allowed per public key in any window. */
  rateLimit?: { events: number; windowMs: number; answer: "ok" | "notice" | "closed" };
  /** One stdout line per EVENT, refusal and dropped REQ. */
  logEvents: boolean;
}

/**
 * Parses the arguments shown at the top of this file.
 *
 * @throws {TypeError} for any other argument or a value out of range.
 */
function parseRelayArgs(args: readonly string[]): NostrRelayProcessArgs {
  const parsed: NostrRelayProcessArgs = {
    hostname: "127.0.0.1",
    port: 0,
    liveTagFilters: true,
    dropFirstReq: false,
    logEvents: false,
  };
  let answer: "ok" | "notice" | "closed" = "ok";
  for (let i = 0; i < args.length; i++) {
    const rate = /^(\d+)\/(\d+)$/.exec(args[i + 1] ?? "");
    if (args[i] === "--ignore-live-tag-filters") {
      parsed.liveTagFilters = false;
    } else if (args[i] === "--drop-first-req") {
      parsed.dropFirstReq = true;
    } else if (args[i] === "--log-events") {
      parsed.logEvents = true;
    } else if (args[i] === "--rate-limit" && rate) {
      parsed.rateLimit = { events: Number(rate[1]), windowMs: Number(rate[2]), answer };
      i++;
    } else if (
      args[i] === "--rate-limit-answer" && ["ok", "notice", "closed"].includes(args[i + 1])
    ) {
      answer = args[++i] as typeof answer;
    } else if (args[i] === "--hostname" && args[i + 1]) {
      parsed.hostname = args[++i];
    } else if (args[i] === "--port" && /^\d+$/.test(args[i + 1] ?? "")) {
      parsed.port = Number(args[++i]);
      if (parsed.port > 65_535) throw new TypeError(`Cannot use port ${parsed.port}: over 65535`);
    } else {
      throw new TypeError(`Cannot start the Nostr relay: unknown argument "${args[i]}"`);
    }
  }
  if (parsed.rateLimit) parsed.rateLimit.answer = answer;
  return parsed;
}

/** Ephemeral events per public key over a sliding window (nostream counts this way). */
class EphemeralRateLimit {
  readonly #sent = new Map<string, number[]>();
  constructor(readonly events: number, readonly windowMs: number) {}

  /** True when `pubkey` may publish one more now (and counts it). */
  take(pubkey: string, nowMs = Date.now()): boolean {
    const recent = (this.#sent.get(pubkey) ?? []).filter((at) => nowMs - at < this.windowMs);
    this.#sent.set(pubkey, recent);
    if (recent.length >= this.events) return false;
    recent.push(nowMs);
    return true;
  }
}

/**
 * The relay's view of one WebSocket. @nostr-relay/core 0.0.40 matches live events
 * on ids, authors, kinds, since and until only, and sends every other live event
 * whatever its tags (stored ones come from MemoryEventStore, matched in full).
 * With `liveTagFilters`, a live event the subscription's filters do not match
 * (with nostr-tools' matchFilters, tags included) is dropped here, as a NIP-01
 * relay would never send it.
 */
function relayClient(
  socket: WebSocket,
  subscriptions: Map<string, Filter[]>,
  liveTagFilters: boolean,
): Client {
  return {
    get readyState() {
      return socket.readyState as ClientReadyState;
    },
    send(data: string) {
      if (liveTagFilters && data.startsWith('["EVENT",')) {
        const [, id, event] = JSON.parse(data);
        const filters = subscriptions.get(id);
        if (filters && !matchFilters(filters as Parameters<typeof matchFilters>[0], event)) return;
      }
      socket.send(data);
    },
  };
}

function serveRelay(args: NostrRelayProcessArgs): void {
  const relay = new NostrRelay(new MemoryEventStore(), {
    logLevel: LogLevel.WARN,
    // The package caches each stored-events query for 1 s by default, so a REQ
    // repeated within that second would miss an event stored meanwhile.
    filterResultCacheTtl: 0,
  });
  const validator = new Validator();
  const limit = args.rateLimit &&
    new EphemeralRateLimit(args.rateLimit.events, args.rateLimit.windowMs);
  const say = (line: string) => args.logEvents && console.log(`${line} ${Date.now()}`);
  const open = new Map<WebSocket, Promise<void>>();
  Deno.addSignalListener("SIGTERM", () => closeAllThenExit(open));
  Deno.serve({
    hostname: args.hostname,
    port: args.port,
    onListen: ({ port }) => console.log(`nostr relay listening on ws://${args.hostname}:${port}`),
  }, (request, info) => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Nostr relay for tests: connect with a WebSocket\n");
    }
    const ip = info.remoteAddr.hostname; // Unreadable once the request is upgraded.
    const { socket, response } = Deno.upgradeWebSocket(request);
    const subscriptions = new Map<string, Filter[]>();
    const client = relayClient(socket, subscriptions, args.liveTagFilters);
    let reqsSeen = 0;
    socket.onopen = () => relay.handleConnection(client, ip);
    open.set(socket, new Promise((resolve) => socket.addEventListener("close", () => resolve())));
    socket.onclose = () => {
      open.delete(socket);
      relay.handleDisconnect(client);
    };
    socket.onmessage = async (message) => {
      try {
        const incoming = await validator.validateIncomingMessage(message.data);
        if (incoming[0] === "REQ" && args.dropFirstReq && reqsSeen++ === 0) {
          return say(`dropped REQ ${incoming[1]}`);
        }
        if (incoming[0] === "EVENT") {
          const event = incoming[1];
          say(`event ${event.pubkey} ${event.kind} ${event.id}`);
          const ephemeral = event.kind >= 20_000 && event.kind < 30_000;
          if (limit && ephemeral && !limit.take(event.pubkey)) {
            say(`rate-limited ${event.pubkey} ${event.id}`);
            const closed = refuseRateLimited(
              socket,
              event.id,
              args.rateLimit!.answer,
              subscriptions,
            );
            for (const id of closed) await relay.handleMessage(client, ["CLOSE", id]);
            return;
          }
        }
        if (incoming[0] === "REQ") subscriptions.set(incoming[1], incoming.slice(2) as Filter[]);
        if (incoming[0] === "CLOSE") subscriptions.delete(incoming[1]);
        await relay.handleMessage(client, incoming);
      } catch (error) {
        // A message the validator refused (or a socket closed meanwhile): say why, as relays do.
        const notice = createOutgoingNoticeMessage(
          error instanceof Error ? error.message : "error",
        );
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(notice));
      }
    };
    return response;
  });
}

/**
 * Refuses an event for a rate limit, the way `answer` says; returns the
 * subscriptions it told the client were closed (for the relay to end them).
 */
function refuseRateLimited(
  socket: WebSocket,
  id: string,
  answer: "ok" | "notice" | "closed",
  subscriptions: Map<string, Filter[]>,
): string[] {
  const reason = "rate-limited: slow down, too many ephemeral events";
  if (answer === "ok") {
    socket.send(JSON.stringify(["OK", id, false, reason]));
    return [];
  }
  socket.send(JSON.stringify(["NOTICE", "rate limited: slow down"]));
  if (answer !== "closed") return [];
  const closed = [...subscriptions.keys()];
  for (const subscription of closed) {
    socket.send(JSON.stringify(["CLOSED", subscription, reason]));
  }
  subscriptions.clear();
  return closed;
}

/**
 * A relay going down cleanly: every connection gets a close frame (1001, going
 * away) and the process exits once the clients answered, or after
 * {@linkcode CLOSE_WAIT_MS}. SIGINT, by contrast, ends the process at once and
 * the clients see their connections drop.
 */
async function closeAllThenExit(open: Map<WebSocket, Promise<void>>): Promise<never> {
  for (const socket of open.keys()) socket.close(1001, "relay restarting");
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(open.values()),
    new Promise((resolve) => timer = setTimeout(resolve, CLOSE_WAIT_MS)),
  ]);
  clearTimeout(timer);
  Deno.exit(0);
}

if (import.meta.main) serveRelay(parseRelayArgs(Deno.args));
