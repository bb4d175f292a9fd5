/**
 * core/portmap against Debian's miniupnpd on a symmetric-NAT bed router (MASQUERADE
 * --random-fully): each protocol alone maps the LAN host's UDP port, a datagram from the
 * public host reaches the LAN socket through the mapping, a 4 s lease is renewed, and
 * close() removes miniupnpd's rule; with every protocol off the mapper gives up in bounded
 * time with one line.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { canRunMiniUpnpd, createBed, type MiniUpnpdProtocols, startMiniUpnpd } from "./mod.ts";

const support = await canRunMiniUpnpd();
if (!support.ok) console.log(`skipping port mapping tests: ${support.reason}`);

type Line = Record<string, unknown> & { type: string };

// The peer's JSON lines, with a wait for the next line of a type.
function lineReader(stream: ReadableStream<Uint8Array>) {
  const lines: Line[] = [];
  const waiters: (() => void)[] = [];
  (async () => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          lines.push(JSON.parse(text));
        } catch {
          lines.push({ type: "text", text });
        }
        waiters.splice(0).forEach((w) => w());
      }
    }
  })().catch(() => {});
  return {
    lines,
    async next(type: string, timeoutMs: number, from = 0): Promise<Line> {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const found = lines.slice(from).find((l) => l.type === type);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`no ${type} line within ${timeoutMs} ms; got ${JSON.stringify(lines)}`);
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
  };
}

const CASES: { name: string; protocol: string; others: string; offer: MiniUpnpdProtocols }[] = [
  {
    name: "PCP alone",
    protocol: "pcp",
    others: "nat-pmp,upnp",
    offer: { upnp: false, natPmp: false, pcp: true },
  },
  {
    name: "NAT-PMP alone",
    protocol: "nat-pmp",
    others: "pcp,upnp",
    offer: { upnp: false, natPmp: true, pcp: false },
  },
  {
    name: "UPnP IGD alone",
    protocol: "upnp",
    others: "pcp,nat-pmp",
    offer: { upnp: true, natPmp: false, pcp: false },
  },
];

Deno.test({
  name: "port mapping with real miniupnpd behind a symmetric NAT",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const bed = await createBed({ left: "symmetric", right: "symmetric" });
    const dir = await Deno.makeTempDir({ prefix: "portmap-" });
    const host = bed.left;
    const peer = (protocols: string) =>
      bed.spawn(host, [
        Deno.execPath(),
        "run",
        "--config=deno.test.json",
        "--unstable-net",
        "--allow-net",
        "--allow-run=ip",
        "--allow-sys=networkInterfaces",
        new URL("./_port_mapper_peer.ts", import.meta.url).pathname,
        protocols,
        "4",
      ], { stdin: "piped" });
    const daemon = (offer: MiniUpnpdProtocols) =>
      startMiniUpnpd({
        routerNs: host.routerNs,
        wanIp: host.wanIp,
        lan: "10.0.1.0/24",
        protocols: offer,
        minLifetime: 2,
        stun: { host: bed.publicHost.ips[0], alternate: bed.publicHost.ips[1], port: 3478 },
        dir,
      });
    try {
      await t.step("the fixture, checked with Debian's natpmpc and upnpc", async () => {
        const mu = await daemon({ upnp: true, natPmp: true, pcp: true });
        try {
          const pmp = await bed.exec(host, [
            "natpmpc",
            "-g",
            "10.0.1.1",
            "-a",
            "41000",
            "41000",
            "udp",
            "30",
          ]);
          assert(
            pmp.stdout.includes("Mapped public port 41000 protocol UDP to local port 41000"),
            pmp.stdout,
          );
          const igd = "http://10.0.1.1:5000/rootDesc.xml";
          const upnp = await bed.exec(host, [
            "upnpc",
            "-u",
            igd,
            "-a",
            host.ip,
            "41001",
            "41001",
            "UDP",
          ]);
          assert(
            upnp.stdout.includes(
              `external ${host.wanIp}:41001 UDP is redirected to internal ${host.ip}:41001`,
            ),
            upnp.stdout,
          );
          const rules = await mu.natRules();
          assert(rules.includes("--dport 41000 ") && rules.includes("--dport 41001 "), rules);
        } finally {
          await mu.stop();
        }
      });
      await t.step("every protocol off: no mapping, one line, bounded time", async () => {
        const mu = await daemon({ upnp: false, natPmp: false, pcp: false });
        const child = peer("pcp,nat-pmp,upnp");
        const out = lineReader(child.stdout);
        try {
          const started = await out.next("started", 15_000);
          assertEquals(started.mapping, null);
          const unavailable = out.lines.filter((l) => l.type === "unavailable");
          assertEquals(unavailable.length, 1);
          const line = String(unavailable[0].line);
          assert(!line.includes("\n") && line.startsWith("no port mapping ("), line);
          // PCP 1 s + NAT-PMP 1 s + UPnP 2.5 s, plus the process's own start.
          assert(Number(started.ms) < 6_000, `gave up after ${started.ms} ms`);
        } finally {
          child.stdin.getWriter().write(new TextEncoder().encode("close\n")).catch(() => {});
          await child.status;
          await mu.stop();
        }
      });
      await t.step(
        "the daemon goes away: renewals fail, the mapping is lost at lease end",
        async () => {
          const mu = await daemon({ upnp: false, natPmp: true, pcp: false });
          const child = peer("nat-pmp");
          const out = lineReader(child.stdout);
          try {
            const mapped = await out.next("mapped", 10_000);
            await mu.stop();
            const lost = await out.next("lost", 8_000);
            const lease = (mapped.mapping as { lifetimeSeconds: number }).lifetimeSeconds * 1000;
            const after = Number(lost.ms) - Number(mapped.ms);
            assert(
              after >= lease - 300 && after < lease + 1_500,
              `lost ${after} ms after a ${lease} ms lease`,
            );
            assert(!String(lost.line).includes("\n"), String(lost.line));
          } finally {
            child.stdin.getWriter().write(new TextEncoder().encode("close\n")).catch(() => {});
            await child.status;
            await mu.stop();
          }
        },
      );
      for (const c of CASES) {
        await t.step(
          `${c.name}: mapped, reachable from the public host, renewed, deleted`,
          async () => {
            const mu = await daemon(c.offer);
            const child = peer(c.protocol);
            const out = lineReader(child.stdout);
            const stdin = child.stdin.getWriter();
            try {
              const { port } = await out.next("port", 10_000);
              const mapped = await out.next("mapped", 10_000);
              const mapping = mapped.mapping as {
                protocol: string;
                external: { address: string; port: number };
                lifetimeSeconds: number;
              };
              assertEquals(mapping.protocol, c.protocol);
              assertEquals(mapping.external.address, host.wanIp);
              assert(
                mapping.lifetimeSeconds >= 2 && mapping.lifetimeSeconds <= 4,
                `lease ${mapping.lifetimeSeconds}`,
              );
              const rules = await mu.natRules();
              assert(rules.includes(`--dport ${mapping.external.port} `), rules);
              assert(
                rules.includes(`10.0.1.2:${port}`) || rules.includes(`--to-destination 10.0.1.2`) ||
                  rules.includes("DNAT"),
                rules,
              );
              // Through the symmetric NAT: unsolicited, from the public host, to the mapped port.
              const probe = await bed.exec("public", [
                "bash",
                "-c",
                `echo probe-${c.protocol} > /dev/udp/${mapping.external.address}/${mapping.external.port}`,
              ]);
              assertEquals(probe.code, 0, probe.stderr);
              const got = await out.next("datagram", 3_000);
              assertEquals(got.text, `probe-${c.protocol}\n`);
              assertEquals(got.from, bed.publicHost.ips[0]);
              // Renewed at half the lease.
              const renewed = await out.next("renewed", mapping.lifetimeSeconds * 1000 + 2_000);
              assert(
                Number(renewed.ms) - Number(mapped.ms) < mapping.lifetimeSeconds * 1000,
                "renewed before expiry",
              );
              await stdin.write(new TextEncoder().encode("close\n"));
              const closed = await out.next("closed", 5_000);
              assert(Number(closed.ms) <= 1_500, `close took ${closed.ms} ms`);
              const after = await mu.natRules();
              assert(
                !after.includes(`--dport ${mapping.external.port} `),
                `rule still there after close:\n${after}`,
              );
              assertEquals(out.lines.filter((l) => l.type === "lost").length, 0);
              // The router really offers that protocol alone: the other two get nothing.
              const other = peer(c.others);
              const otherOut = lineReader(other.stdout);
              const refused = await otherOut.next("started", 10_000);
              other.stdin.getWriter().write(new TextEncoder().encode("close\n")).catch(() => {});
              await other.status;
              assertEquals(refused.mapping, null, JSON.stringify(otherOut.lines));
            } catch (error) {
              console.log(mu.log().slice(-3000));
              throw error;
            } finally {
              await stdin.write(new TextEncoder().encode("close\n")).catch(() => {});
              await child.status;
              await mu.stop();
            }
          },
        );
      }
    } finally {
      await bed.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
