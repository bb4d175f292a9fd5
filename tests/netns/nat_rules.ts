/**
 * Packet-filter rules that turn a router namespace into a NAT of a given RFC 4787 kind.
 * Pure text generation: the bed loads the result with `iptables-restore` and `nft -f -`.
 * @module
 */

/**
 * NAT behaviour of a router, in RFC 4787 terms:
 * - `full-cone`: endpoint-independent mapping and filtering;
 * - `restricted-cone`: endpoint-independent mapping, address-dependent filtering;
 * - `port-restricted`: endpoint-independent mapping, address-and-port-dependent filtering;
 * - `symmetric`: address-and-port-dependent mapping (and filtering).
 */
export type NatKind = "full-cone" | "restricted-cone" | "port-restricted" | "symmetric";

/** All NAT kinds, in order of increasing strictness. */
export const NAT_KINDS: readonly NatKind[] = [
  "full-cone",
  "restricted-cone",
  "port-restricted",
  "symmetric",
];

/** Interfaces and the host that receives unsolicited inbound UDP on cone NATs. */
export interface RouterPorts {
  wan: string;
  lan: string;
  /** LAN address that unsolicited inbound UDP is forwarded to (full and restricted cone). */
  inboundHost: string;
}

/** Rules for one router: an `iptables-restore` script and, when needed, an `nft -f` script. */
export interface RouterRules {
  iptables: string;
  nft?: string;
}

/** Builds the rules that make a router behave as `kind`. */
export function routerRules(kind: NatKind, ports: RouterPorts): RouterRules {
  const { wan, lan, inboundHost } = ports;
  // Cone kinds forward some unsolicited inbound UDP to the LAN host via DNAT.
  const dnatInbound = kind === "full-cone" || kind === "restricted-cone";
  const filter = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    // Unsolicited packets to the router itself must die here: accepted, they would leave a
    // conntrack entry that collides with the LAN host's mapping and makes Linux pick
    // another external port (NOTES.md, trap 2).
    `-A INPUT -i ${wan} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
    `-A INPUT -i ${wan} -j DROP`,
    `-A FORWARD -i ${wan} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
    ...(dnatInbound
      ? [`-A FORWARD -i ${wan} -o ${lan} -p udp -m conntrack --ctstate DNAT -j ACCEPT`]
      : []),
    `-A FORWARD -i ${wan} -j DROP`,
    "COMMIT",
  ];
  const nat = [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    // MASQUERADE keeps the source port when it is free: endpoint-independent mapping.
    // --random-fully draws a new port for every new 5-tuple: the symmetric NAT.
    `-A POSTROUTING -o ${wan} -j MASQUERADE${kind === "symmetric" ? " --random-fully" : ""}`,
    ...(kind === "full-cone"
      ? [`-A PREROUTING -i ${wan} -p udp -j DNAT --to-destination ${inboundHost}`]
      : []),
    "COMMIT",
  ];
  const iptables = [...filter, ...nat, ""].join("\n");
  if (kind !== "restricted-cone") return { iptables };
  // Address-dependent filtering needs state that conntrack does not keep: "this mapping
  // has sent to that IP". A dynamic set of (remote IP . internal port), refreshed by every
  // outbound packet, gives exactly that; the internal port is the mapped port because the
  // MASQUERADE above preserves ports for the single LAN host.
  const nft = `table ip tnb_cone {
  set contacted {
    type ipv4_addr . inet_service
    flags dynamic, timeout
    timeout 120s
  }
  chain remember {
    type filter hook forward priority filter - 1; policy accept;
    iifname "${lan}" oifname "${wan}" meta l4proto udp update @contacted { ip daddr . udp sport }
  }
  chain admit {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "${wan}" meta l4proto udp ip saddr . udp dport @contacted dnat to ${inboundHost}
  }
}
`;
  return { iptables, nft };
}
