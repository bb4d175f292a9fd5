// Runs on a bed host: `deno run --unstable-net --allow-net _probe_client.ts ip1 ip2 port1
// port2` against _probe_server.ts. Prints one JSON observation (see NatObservation in
// nat_probe.ts): the mapped address seen at (ip1,port1), (ip1,port2), (ip2,port1), and
// whether answers from another ip+port, or from another port only, got through.
type Change = "none" | "port" | "ip" | "ip+port";

const [ip1, ip2, port1, port2] = [
  Deno.args[0],
  Deno.args[1],
  Number(Deno.args[2]),
  Number(Deno.args[3]),
];

// One UDP socket = one NAT mapping under test.
class Mapping {
  readonly conn = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  readonly seen = new Map<string, { mapped: string; via: Set<string> }>();
  constructor() {
    (async () => {
      for await (const [data] of this.conn) {
        let answer;
        try {
          answer = JSON.parse(new TextDecoder().decode(data));
        } catch {
          continue; // not an answer from the probe server
        }
        const entry = this.seen.get(answer.id) ?? { mapped: answer.mapped, via: new Set() };
        entry.via.add(answer.via);
        this.seen.set(answer.id, entry);
      }
    })().catch(() => {});
  }

  /** Asks (ip, port) for its view of us; resolves after the direct answer plus a grace. */
  async ask(hostname: string, port: number, alt: Change[] = []) {
    const id = crypto.randomUUID();
    const request = new TextEncoder().encode(JSON.stringify({ id, alt }));
    for (let attempt = 0; attempt < 10; attempt++) {
      await this.conn.send(request, { transport: "udp", hostname, port });
      for (let waited = 0; waited < 300; waited += 10) {
        const entry = this.seen.get(id);
        if (entry?.via.has("none")) {
          // Alternates were sent first; the grace covers reordering on the way.
          await new Promise((r) => setTimeout(r, 150));
          return entry;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    throw new Error(`no answer from ${hostname}:${port}`);
  }
}

// Filtering first, each on a socket that has only talked to (ip1,port1).
const altIpPort = (await new Mapping().ask(ip1, port1, ["ip+port"])).via.has("ip+port");
const altPort = (await new Mapping().ask(ip1, port1, ["port"])).via.has("port");
const m = new Mapping();
const mapped = [
  (await m.ask(ip1, port1)).mapped,
  (await m.ask(ip1, port2)).mapped,
  (await m.ask(ip2, port1)).mapped,
];
console.log(JSON.stringify({ mapped, altIpPort, altPort }));
Deno.exit(0);
