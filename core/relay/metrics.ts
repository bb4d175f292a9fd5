/**
 * The relay's counters, and their Prometheus text form for `/metrics`.
 * @module
 */

/** Why a datagram was not forwarded. */
export type DropReason = "no-peer" | "queue-full" | "relay-full" | "rate-limit";
/** Why a client was turned away. */
export type RefusalReason =
  | "auth"
  | "access"
  | "capacity"
  | "protocol"
  | "timeout"
  | "admission"
  | "budget"
  | "receive-budget";

/** Counters of one relay process. */
export class RelayMetrics {
  /** Clients connected and authenticated now. */
  clients = 0;
  /** Connections accepted over the process's life. */
  accepted = 0;
  /** Datagrams forwarded. */
  datagramsForwarded = 0;
  /** Payload bytes forwarded. */
  bytesForwarded = 0;
  /** Datagrams not forwarded, by reason. */
  readonly dropped: Record<DropReason, number> = {
    "no-peer": 0,
    "queue-full": 0,
    "relay-full": 0,
    "rate-limit": 0,
  };
  /** Clients turned away or disconnected for misbehaving, by reason. */
  readonly refusals: Record<RefusalReason, number> = {
    auth: 0,
    access: 0,
    capacity: 0,
    protocol: 0,
    timeout: 0,
    admission: 0,
    budget: 0,
    "receive-budget": 0,
  };
  /** Times a client went over its rate limit. */
  rateLimitEvents = 0;

  /** The Prometheus text exposition of every counter. */
  toPrometheus(): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, values: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of values) lines.push(`${name}${labels} ${value}`);
    };
    metric("tunnel_relay_clients", "gauge", "Clients connected and authenticated.", [[
      "",
      this.clients,
    ]]);
    metric("tunnel_relay_accepted_total", "counter", "WebSocket connections accepted.", [[
      "",
      this.accepted,
    ]]);
    metric("tunnel_relay_datagrams_forwarded_total", "counter", "Datagrams forwarded.", [[
      "",
      this.datagramsForwarded,
    ]]);
    metric("tunnel_relay_bytes_forwarded_total", "counter", "Payload bytes forwarded.", [[
      "",
      this.bytesForwarded,
    ]]);
    metric(
      "tunnel_relay_datagrams_dropped_total",
      "counter",
      "Datagrams not forwarded, by reason.",
      Object.entries(this.dropped).map(([reason, n]) => [`{reason="${reason}"}`, n]),
    );
    metric(
      "tunnel_relay_refusals_total",
      "counter",
      "Clients refused or disconnected, by reason.",
      Object.entries(this.refusals).map(([reason, n]) => [`{reason="${reason}"}`, n]),
    );
    metric("tunnel_relay_rate_limit_events_total", "counter", "Clients over their rate limit.", [[
      "",
      this.rateLimitEvents,
    ]]);
    return lines.join("\n") + "\n";
  }
}
