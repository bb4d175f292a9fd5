import { deepStrictEqual, equal } from "node:assert/strict";
import { decodeDnsPacket } from "../core/discovery/mod.ts";
import { dnsOutcome, dnsTxtQuery, dnsUdpSourceRunner } from "./dns_udp_load.ts";
import { runLanes } from "./load_lanes.ts";

Deno.test("dnsTxtQuery() asks TXT for the name; dnsOutcome() reads id and rcode", () => {
  const query = dnsTxtQuery(513, "_iroh.k.o.test");
  const decoded = decodeDnsPacket(query);
  equal(decoded.id, 513);
  equal(decoded.questions[0].name, "_iroh.k.o.test");
  const answer = query.slice();
  answer[3] = 3; // NXDOMAIN
  deepStrictEqual(dnsOutcome(answer), { id: 513, outcome: "NXDOMAIN" });
  answer[3] = 0;
  deepStrictEqual(dnsOutcome(answer), { id: 513, outcome: "NODATA" });
  answer[7] = 1;
  deepStrictEqual(dnsOutcome(answer), { id: 513, outcome: "NOERROR" });
  equal(dnsOutcome(new Uint8Array(11)), undefined);
});

Deno.test("dnsUdpSourceRunner() counts answers from a real socket and a silent server's queries as lost", async () => {
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (server.addr as Deno.NetAddr).port;
  // Answers every other query (NXDOMAIN), drops the rest.
  let seen = 0;
  const serving = (async () => {
    for (;;) {
      let datagram: Uint8Array, from: Deno.Addr;
      try {
        [datagram, from] = await server.receive();
      } catch {
        return;
      }
      if (seen++ % 2 === 1) continue;
      const answer = datagram.slice();
      answer[2] |= 0x80;
      answer[3] = 3;
      await server.send(answer, from);
    }
  })();
  const run = dnsUdpSourceRunner({ host: "127.0.0.1", port, window: 2, lostAfterMs: 200 });
  const load = await runLanes(
    [{ localAddress: "127.1.0.9", names: ["a.t", "b.t", "c.t", "d.t"] }],
    1,
    5_000,
    run,
  );
  server.close();
  await serving;
  deepStrictEqual(load.outcomes, { NXDOMAIN: 2, lost: 2 });
});
