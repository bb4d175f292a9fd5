/**
 * Running Debian's `miniupnpd` (package miniupnpd-iptables) as the port-mapping service of a
 * bed router: UPnP IGD, NAT-PMP and PCP, each on or off.
 *
 * What the Debian build (2.3.1, netfilter backend) offers: PCP is compiled in and shares the
 * NAT-PMP socket (UDP 5351 on the LAN address); `enable_natpmp=yes` turns both on, and the
 * first byte of a request (version 0 = NAT-PMP, 2 = PCP) picks the protocol. There is no switch
 * for one without the other, so "PCP only" and "NAT-PMP only" drop the other version's requests
 * at the router with an iptables `u32` match on the first payload byte, before miniupnpd sees them.
 *
 * The router keeps the bed's own rules; the fixture adds miniupnpd's chains (MINIUPNPD in nat
 * PREROUTING and filter FORWARD, MINIUPNPD-POSTROUTING in nat POSTROUTING) ahead of them, like
 * /etc/miniupnpd/iptables_init.sh does, and never flushes anything of the bed.
 * @module
 */
import { run, tool } from "./command.ts";

/** Which protocols the router offers. */
export interface MiniUpnpdProtocols {
  upnp: boolean;
  natPmp: boolean;
  pcp: boolean;
}

/** Where and how to run miniupnpd. */
export interface MiniUpnpdOptions {
  /** The router namespace (a bed host's `routerNs`). */
  routerNs: string;
  /** The router's WAN address (the bed host's `wanIp`). */
  wanIp: string;
  /** The LAN prefix allowed to map, e.g. "10.0.1.0/24". */
  lan: string;
  protocols: MiniUpnpdProtocols;
  /**
   * The bed's STUN server: coturn on `host:port` with its RFC 5780 alternate address
   * (`bed.publicHost.ips`, port 3478).
   */
  stun: { host: string; alternate: string; port: number };
  /** Shortest lease granted to NAT-PMP/PCP clients (miniupnpd `min_lifetime`), seconds. */
  minLifetime?: number;
  /** Longest lease (miniupnpd `max_lifetime`), seconds. */
  maxLifetime?: number;
  /** Directory for the config file, pid file and log (removed by the caller). */
  dir: string;
}

/** A running miniupnpd. */
export interface MiniUpnpd {
  readonly pid: number;
  /** The UPnP HTTP port on the router's LAN address. */
  readonly httpPort: number;
  /** miniupnpd's output so far (its `-d` debug log). */
  log(): string;
  /** The nat MINIUPNPD chain's rules (`iptables -t nat -S MINIUPNPD`). */
  natRules(): Promise<string>;
  /** SIGTERM (miniupnpd removes its rules), SIGKILL after 3 s; then removes the chains. */
  stop(): Promise<void>;
}

const HTTP_PORT = 5000;

/** The config text for {@link MiniUpnpdOptions}. */
export function miniUpnpdConfig(o: MiniUpnpdOptions): string {
  const natPmpSocket = o.protocols.natPmp || o.protocols.pcp;
  return [
    "ext_ifname=wan0",
    // The bed's "public" segment is TEST-NET-2, which miniupnpd counts as reserved: it refuses
    // it as ext_ip and, read from wan0, disables port forwarding. With STUN it learns the
    // address from the bed's coturn and checks that unsolicited packets get in.
    "ext_perform_stun=yes",
    `ext_stun_host=${o.stun.host}`,
    `ext_stun_port=${o.stun.port}`,
    "listening_ip=br0",
    `http_port=${HTTP_PORT}`,
    `enable_upnp=${o.protocols.upnp ? "yes" : "no"}`,
    `enable_natpmp=${natPmpSocket ? "yes" : "no"}`,
    "secure_mode=yes",
    "system_uptime=yes",
    `min_lifetime=${o.minLifetime ?? 120}`,
    `max_lifetime=${o.maxLifetime ?? 86400}`,
    "notify_interval=60",
    "clean_ruleset_interval=600",
    "uuid=3e8a1b6c-7f5d-4c1e-9a2b-6d0f5e4c3b2a",
    "serial=12345678",
    "model_number=1",
    `allow 1024-65535 ${o.lan} 1024-65535`,
    "deny 0-65535 0.0.0.0/0 0-65535",
    "",
  ].join("\n");
}

// miniupnpd-iptables talks to the kernel through libiptc, i.e. the legacy x_tables, while
// the bed loads its rules with the nf_tables iptables: its chains go to the legacy tables.
function legacyChains(): string {
  return [
    "*nat",
    ":MINIUPNPD - [0:0]",
    ":MINIUPNPD-POSTROUTING - [0:0]",
    "-A PREROUTING -i wan0 -j MINIUPNPD",
    "-A POSTROUTING -o wan0 -j MINIUPNPD-POSTROUTING",
    "COMMIT",
    "*mangle",
    ":MINIUPNPD - [0:0]",
    "-A PREROUTING -i wan0 -j MINIUPNPD",
    "COMMIT",
    "*filter",
    ":MINIUPNPD - [0:0]",
    "-A FORWARD -i wan0 ! -o wan0 -j MINIUPNPD",
    "COMMIT",
    "",
  ].join("\n");
}

// Added at the head of the bed's own (nf_tables) chains: a packet must pass both.
function bedAllowances(o: MiniUpnpdOptions): string {
  const { protocols, stun } = o;
  const ports = `${stun.port}:${stun.port + 1}`;
  // u32 "0>>22&0x3C@8>>24": the first byte of the UDP payload (IP header length, then 8
  // bytes of UDP header). Version 0 is NAT-PMP, version 2 is PCP.
  const dropVersion = (v: number) =>
    `-I INPUT -i br0 -p udp --dport 5351 -m u32 --u32 0>>22&0x3C@8>>24=${v} -j DROP`;
  return [
    "*nat",
    // The router's own packets keep their source port (the bed masquerades everything that
    // leaves wan0, --random-fully on the symmetric kind): miniupnpd's STUN check sees a
    // changed port as "behind a symmetric NAT" and disables port forwarding.
    `-I POSTROUTING -o wan0 -s ${o.wanIp} -j ACCEPT`,
    "COMMIT",
    "*filter",
    // miniupnpd's STUN check wants answers from the other address and port (RFC 5780
    // CHANGE-REQUEST), which the bed's "drop unsolicited" INPUT rule would eat.
    `-I INPUT -i wan0 -p udp -s ${stun.host} --sport ${ports} -j ACCEPT`,
    `-I INPUT -i wan0 -p udp -s ${stun.alternate} --sport ${ports} -j ACCEPT`,
    // Inbound packets that miniupnpd's rules DNAT to the LAN: the bed's FORWARD drops
    // every unsolicited inbound packet otherwise (the symmetric bed has no other DNAT).
    "-I FORWARD -i wan0 -o br0 -m conntrack --ctstate DNAT -j ACCEPT",
    ...(protocols.pcp && !protocols.natPmp ? [dropVersion(0)] : []),
    ...(protocols.natPmp && !protocols.pcp ? [dropVersion(2)] : []),
    "COMMIT",
    "",
  ].join("\n");
}

// The same script with every inserted or appended rule deleted.
function undo(script: string): string {
  return script.split("\n").map((line) => line.replace(/^-[IA] /, "-D ")).join("\n");
}

function undoLegacy(): string {
  const hooks = legacyChains().split("\n").filter((l) =>
    l.startsWith("-") || l.startsWith("*") || l === "COMMIT"
  );
  return hooks.map((line) => line.replace(/^-A /, "-D ")).join("\n").replace(
    /COMMIT/g,
    "",
  ).split("*").filter((t) => t.trim()).map((t) => {
    const [table, ...rules] = t.trim().split("\n");
    const chains = table === "nat" ? ["MINIUPNPD", "MINIUPNPD-POSTROUTING"] : ["MINIUPNPD"];
    return [`*${table}`, ...rules, ...chains.flatMap((c) => [`-F ${c}`, `-X ${c}`]), "COMMIT"].join(
      "\n",
    );
  }).join("\n") + "\n";
}

function inRouter(ns: string, cmd: string[], stdin?: string) {
  return run([tool("ip", "iproute2"), "netns", "exec", ns, ...cmd], { stdin, timeoutMs: 10_000 });
}

async function listening(ns: string, ports: string[]): Promise<boolean> {
  // Columns: Netid State Recv-Q Send-Q Local-Address:Port Peer-Address:Port
  const out = await inRouter(ns, [tool("ss", "iproute2"), "-Hlntu"]);
  const local = out.stdout.split("\n").map((line) => line.trim().split(/\s+/)[4] ?? "");
  return ports.every((p) => local.some((l) => l.endsWith(`:${p}`)));
}

/**
 * Writes the config, adds the chains and starts `miniupnpd -d -f <config>` in the router
 * namespace; resolves once its sockets listen (UDP 5351 and/or TCP http port).
 */
export async function startMiniUpnpd(o: MiniUpnpdOptions, timeoutMs = 10_000): Promise<MiniUpnpd> {
  const binary = tool("miniupnpd", "miniupnpd-iptables");
  const config = `${o.dir}/miniupnpd.conf`;
  await Deno.writeTextFile(config, miniUpnpdConfig(o));
  for (
    const [restore, rules] of [
      [tool("iptables-legacy-restore", "iptables"), legacyChains()],
      [tool("iptables-restore", "iptables"), bedAllowances(o)],
    ]
  ) {
    const result = await inRouter(o.routerNs, [restore, "-w", "5", "--noflush"], rules);
    if (result.code !== 0) throw new Error(`${restore}: ${result.stderr.trim()}\n${rules}`);
  }
  const child = new Deno.Command(tool("ip", "iproute2"), {
    args: [
      "netns",
      "exec",
      o.routerNs,
      binary,
      "-d",
      "-f",
      config,
      "-P",
      `${o.dir}/miniupnpd.pid`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output = (output + decoder.decode(chunk)).slice(-64_000);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 3_000);
        await status;
        clearTimeout(timer);
      }
      await drained.catch(() => {});
      // Take back what start added, so that the next miniupnpd starts on the bed's rules.
      await inRouter(
        o.routerNs,
        [tool("iptables-restore", "iptables"), "-w", "5", "--noflush"],
        undo(bedAllowances(o)),
      );
      await inRouter(o.routerNs, [
        tool("iptables-legacy-restore", "iptables"),
        "-w",
        "5",
        "--noflush",
      ], undoLegacy());
    })();
  const ports = [
    ...(o.protocols.natPmp || o.protocols.pcp ? ["5351"] : []),
    ...(o.protocols.upnp ? [String(HTTP_PORT), "1900"] : []),
  ];
  const deadline = Date.now() + timeoutMs;
  while (ports.length > 0 && !(await listening(o.routerNs, ports))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`miniupnpd did not listen on ${ports.join(", ")}\n${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    pid: child.pid,
    httpPort: HTTP_PORT,
    log: () => output,
    natRules: async () =>
      (await inRouter(o.routerNs, [
        tool("iptables-legacy", "iptables"),
        "-w",
        "5",
        "-t",
        "nat",
        "-S",
        "MINIUPNPD",
      ]))
        .stdout,
    stop,
  };
}
