// Run by ice_agent_test.ts in a child process: exercises success, failure and
// abort, then simply ends. Deno's test sanitizers do not see node:dgram sockets
// or timers, so the only proof that werift leaves nothing running is that this
// process exits by itself right after printing "done".

import { IceAgent } from "./ice_agent.ts";

const options = { stunServers: [], hostAddresses: ["127.0.0.1"] };
const unreachable = {
  credentials: { ufrag: "abcd", pwd: "0123456789abcdef012345" },
  candidates: [{
    foundation: "1",
    component: 1,
    transport: "udp" as const,
    priority: 1,
    address: "127.0.0.1",
    port: 9,
    type: "host" as const,
  }],
};

// Success, then release.
const [a, b] = await Promise.all([
  IceAgent.gather({ role: "controlling", ...options }),
  IceAgent.gather({ role: "controlled", ...options }),
]);
const paths = await Promise.all([
  a.connect({ credentials: b.localCredentials, candidates: b.localCandidates }, {
    timeoutMs: 5_000,
  }),
  b.connect({ credentials: a.localCredentials, candidates: a.localCandidates }, {
    timeoutMs: 5_000,
  }),
]);
await Promise.all(paths.map((path) => path.release()));

// Failure by timeout.
const failing = await IceAgent.gather({ role: "controlling", ...options });
await failing.connect(unreachable, { timeoutMs: 300 }).catch(() => {});

// Abort during connect.
const aborted = await IceAgent.gather({ role: "controlled", ...options });
await aborted.connect(unreachable, { timeoutMs: 5_000, signal: AbortSignal.timeout(100) }).catch(
  () => {},
);

// Abort while a STUN server stays silent.
const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
await IceAgent.gather({
  role: "controlling",
  ...options,
  stunServers: [`127.0.0.1:${(silent.addr as Deno.NetAddr).port}`],
  signal: AbortSignal.timeout(100),
}).catch(() => {});
silent.close();

console.log("done");
