import assert from "node:assert/strict";
import { FakeNat, FakeNetwork } from "./_fake_nat.ts";
import { seededRandom } from "./birthday_plan.ts";
import { BirthdaySession } from "./birthday_session.ts";
import { BirthdayFailedError, runBirthday } from "./birthday_run.ts";
import { decideBirthday, punchBirthday } from "./birthday_punch.ts";
import type { IceCandidate } from "./ice_candidate.ts";

const TOKEN = new Uint8Array(16).fill(9);

function bed(seed: number) {
  const random = seededRandom(seed);
  const proberNat = new FakeNat("198.51.100.10", "port-restricted", random);
  const sprayerNat = new FakeNat("198.51.100.20", "symmetric", random);
  const network = new FakeNetwork([proberNat, sprayerNat], { latencyMs: 2, random });
  return {
    network,
    proberSockets: network.opener(proberNat, "10.0.1.2"),
    sprayerSockets: network.opener(sprayerNat, "10.0.2.2"),
  };
}

Deno.test("runBirthday over the fake network: both sides agree on a pair and close every socket", async () => {
  const { network, proberSockets, sprayerSockets } = bed(3);
  const stop = network.startPump();
  try {
    const [p, s] = await Promise.all([
      runBirthday(
        new BirthdaySession({
          role: "prober",
          token: TOKEN,
          peer: { address: "198.51.100.20", port: 0 },
          random: seededRandom(5),
        }),
        { sockets: proberSockets, localPort: 50_000 },
      ),
      runBirthday(
        new BirthdaySession({
          role: "sprayer",
          token: TOKEN,
          peer: { address: "198.51.100.10", port: 50_000 },
          random: seededRandom(6),
        }),
        { sockets: sprayerSockets, localPort: 0 },
      ),
    ]);
    assert.equal(p.localPort, 50_000);
    assert.deepEqual(s.remote, { address: "198.51.100.10", port: 50_000 });
    assert.equal(p.remote.address, "198.51.100.20");
    assert.ok(s.localPort >= 40_000 && s.localPort < 40_256);
    assert.equal(sprayerSockets.opened, 256);
    assert.equal(proberSockets.openNow + sprayerSockets.openNow, 0, "every socket closed");
  } finally {
    stop();
  }
});

Deno.test("runBirthday: no peer -> BirthdayFailedError within the time limit, sockets closed", async () => {
  const { network, sprayerSockets } = bed(4);
  const stop = network.startPump();
  try {
    const started = performance.now();
    await assert.rejects(
      runBirthday(
        new BirthdaySession({
          role: "sprayer",
          token: TOKEN,
          peer: { address: "198.51.100.10", port: 50_000 },
          sockets: 8,
          timeoutMs: 300,
          random: Math.random,
        }),
        { sockets: sprayerSockets, localPort: 0 },
      ),
      BirthdayFailedError,
    );
    assert.ok(performance.now() - started < 1_000);
    assert.equal(sprayerSockets.openNow, 0);
  } finally {
    stop();
  }
});

Deno.test("runBirthday: an abort ends it at once with the reason, sockets closed", async () => {
  const { network, proberSockets } = bed(5);
  const stop = network.startPump();
  const abort = new AbortController();
  try {
    const running = runBirthday(
      new BirthdaySession({
        role: "prober",
        token: TOKEN,
        peer: { address: "198.51.100.20", port: 0 },
        random: Math.random,
      }),
      { sockets: proberSockets, localPort: 50_000, signal: abort.signal },
    );
    setTimeout(() => abort.abort(new Error("session over")), 100);
    const started = performance.now();
    await assert.rejects(running, /session over/);
    assert.ok(performance.now() - started < 500);
    assert.equal(proberSockets.openNow, 0);
  } finally {
    stop();
  }
});

Deno.test("runBirthday: a socket that cannot be opened fails the run and closes the others", async () => {
  let opened = 0;
  let closed = 0;
  const sockets = {
    open(port: number) {
      if (opened === 3) return Promise.reject(new Error("too many open files"));
      opened++;
      return Promise.resolve({
        port: port || 40_000 + opened,
        send: () => Promise.resolve(),
        receive: () => new Promise<never>(() => {}),
        close: () => void closed++,
      });
    },
  };
  const session = new BirthdaySession({
    role: "sprayer",
    token: TOKEN,
    peer: { address: "198.51.100.10", port: 50_000 },
    sockets: 8,
    random: Math.random,
  });
  await assert.rejects(
    runBirthday(session, { sockets, localPort: 0 }),
    /could not open socket 4 of 8 \(too many open files\)/,
  );
  assert.equal(closed, 3);
});

const srflx = (
  address: string,
  port: number,
  mapping?: "independent" | "dependent",
): IceCandidate => ({
  foundation: "1",
  component: 1,
  transport: "udp",
  priority: 1,
  address,
  port,
  type: "srflx",
  relatedAddress: "10.0.0.2",
  relatedPort: 50_000,
  ...(mapping ? { mapping } : {}),
});

Deno.test("decideBirthday: roles, reasons, refused targets, and the same verdict on both sides", () => {
  const eim = [srflx("198.51.100.10", 50_000, "independent")];
  const sym = [
    srflx("198.51.100.20", 41_000, "dependent"),
    srflx("198.51.100.20", 52_000, "dependent"),
  ];
  assert.deepEqual(decideBirthday(eim, sym), {
    role: "prober",
    localPort: 50_000,
    local: { address: "198.51.100.10", port: 50_000 },
    peer: { address: "198.51.100.20", port: 0 },
  });
  assert.deepEqual(decideBirthday(sym, eim), {
    role: "sprayer",
    local: { address: "198.51.100.20", port: 0 },
    peer: { address: "198.51.100.10", port: 50_000 },
  });
  const none = (a: IceCandidate[], b: IceCandidate[]) => {
    const d = decideBirthday(a, b);
    return d.role === "none" ? d.reason : "punches";
  };
  assert.match(none(sym, sym), /both NATs map per destination/);
  assert.match(none(eim, eim), /nothing to add/);
  assert.match(none([srflx("198.51.100.10", 1)], sym), /our NAT's mapping behaviour is unknown/);
  assert.match(none(eim, [srflx("198.51.100.20", 1)]), /peer's NAT mapping behaviour is unknown/);
  assert.match(none(eim, []), /unknown/);
  // A peer naming a private, loopback or multicast "public" address gets no probes.
  for (
    const address of [
      "10.1.2.3",
      "127.0.0.1",
      "192.168.1.1",
      "172.16.0.1",
      "100.64.0.1",
      "169.254.1.1",
      "224.0.0.1",
      "255.255.255.255",
      "0.0.0.0",
    ]
  ) {
    assert.match(
      none(eim, [srflx(address, 1, "dependent")]),
      /not a public unicast address/,
      address,
    );
    assert.match(
      none(sym, [srflx(address, 1, "independent")]),
      /not a public unicast address/,
      address,
    );
  }
});

Deno.test("punchBirthday: the winning pair comes back as a released path with method birthday", async () => {
  const { network, proberSockets, sprayerSockets } = bed(8);
  const stop = network.startPump();
  const secret = new Uint8Array(32).fill(1);
  try {
    const eim = [srflx("198.51.100.10", 50_000, "independent")];
    const sym = [srflx("198.51.100.20", 41_000, "dependent")];
    const p = decideBirthday(eim, sym);
    const s = decideBirthday(sym, eim);
    assert.ok(p.role === "prober" && s.role === "sprayer");
    const [probed, sprayed] = await Promise.all([
      punchBirthday({ decision: p, secret, sockets: proberSockets, random: seededRandom(1) }),
      punchBirthday({ decision: s, secret, sockets: sprayerSockets, random: seededRandom(2) }),
    ]);
    assert.equal(probed.method, "birthday");
    assert.equal(probed.bindPort, 50_000);
    assert.equal(probed.bindAddress, "0.0.0.0");
    assert.equal(sprayed.remote.port, 50_000);
    assert.equal(probed.remote.address, "198.51.100.20");
    await probed.release();
  } finally {
    stop();
  }
});
