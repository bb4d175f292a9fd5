/**
 * Test fixture: one birthday punch between two {@linkcode BirthdaySession}s
 * through a {@linkcode FakeNetwork} in virtual time (1 ms steps), so
 * thousands of seeded runs take seconds. The prober sits behind a
 * port-restricted NAT, the sprayer behind a random-port symmetric one.
 * @module
 */
import { FakeNat, FakeNetwork } from "./_fake_nat.ts";
import { seededRandom } from "./birthday_plan.ts";
import { type BirthdayAddress, BirthdaySession } from "./birthday_session.ts";

/** Knobs of one simulated punch. */
export interface SimulationOptions {
  /** Seeds the ports of both the prober and the symmetric NAT. */
  seed: number;
  sockets?: number;
  probes?: number;
  /** The sprayer starts this much later (negative: earlier). */
  offsetMs?: number;
  /** One-way latency. */
  latencyMs?: number;
  /** Share of datagrams lost. */
  loss?: number;
  /** A stranger sends garbage and wrong-token datagrams to every public port it can. */
  stranger?: boolean;
}

/** What one punch did. */
export interface SimulationResult {
  /** Both sides agreed on the same working pair. */
  hit: boolean;
  /** Virtual ms until both sides were done (or gave up). */
  ms: number;
  proberSent: number;
  sprayerSent: number;
  /** Mappings the symmetric NAT opened. */
  sprayerMappings: number;
}

const PROBER_PUBLIC = "198.51.100.10";
const SPRAYER_PUBLIC = "198.51.100.20";
const PROBER_INSIDE = "10.0.1.2:50000";

/** Runs one punch to its end. */
export function simulateBirthday(options: SimulationOptions): SimulationResult {
  const random = seededRandom(options.seed);
  const proberNat = new FakeNat(PROBER_PUBLIC, "port-restricted", random);
  const sprayerNat = new FakeNat(SPRAYER_PUBLIC, "symmetric", random);
  const network = new FakeNetwork([proberNat, sprayerNat], {
    latencyMs: options.latencyMs ?? 10,
    loss: options.loss,
    random,
  });
  const token = new Uint8Array(16).fill(7);
  const prober = new BirthdaySession({
    role: "prober",
    token,
    peer: { address: SPRAYER_PUBLIC, port: 0 },
    probes: options.probes,
    random,
  });
  const sprayer = new BirthdaySession({
    role: "sprayer",
    token,
    peer: { address: PROBER_PUBLIC, port: 50_000 },
    sockets: options.sockets,
    random,
  });
  const offset = options.offsetMs ?? 0;
  let now = 0;
  const sprayerNow = () => now - offset;
  const sprayerInside = (i: number) => `10.0.2.2:${40_000 + i}`;
  const sendAll = (
    sends: ReturnType<BirthdaySession["poll"]>,
    inside: (i: number) => string,
  ) => {
    for (const s of sends) network.send(now, inside(s.socket), s.to, s.data);
  };
  network.attach(proberNat, PROBER_INSIDE, (data, from) => {
    sendAll(prober.receive(now, 0, from, data), () => PROBER_INSIDE);
  });
  for (let i = 0; i < sprayer.sockets; i++) {
    network.attach(sprayerNat, sprayerInside(i), (data, from) => {
      if (sprayerNow() < 0) return; // not started: its socket is not open yet
      sendAll(sprayer.receive(sprayerNow(), i, from, data), sprayerInside);
    });
  }
  const ended = (s: BirthdaySession) => s.state === "done" || s.state === "failed";
  const stranger = { address: "203.0.113.66", port: 9 };
  for (; now <= 10_000 && !(ended(prober) && ended(sprayer)); now++) {
    network.deliver(now);
    sendAll(prober.poll(now), () => PROBER_INSIDE);
    if (sprayerNow() >= 0) sendAll(sprayer.poll(sprayerNow()), sprayerInside);
    if (options.stranger && now % 50 === 0) {
      // Garbage and a forged token at the prober, from the sprayer's IP (spoofed) on random ports.
      const forged = new Uint8Array(21).fill(7);
      forged.set([0x74, 0x62, 0x64, 0x31, 1], 0); // a "reply" with the wrong token
      forged[5] = 8;
      for (const data of [new Uint8Array([1, 2, 3]), forged]) {
        sendAll(
          prober.receive(now, 0, { address: SPRAYER_PUBLIC, port: 1024 + now }, data),
          () => PROBER_INSIDE,
        );
        sendAll(
          sprayer.receive(sprayerNow(), 0, { address: PROBER_PUBLIC, port: 50_000 }, data),
          sprayerInside,
        );
        sendAll(prober.receive(now, 0, stranger, data), () => PROBER_INSIDE);
      }
    }
  }
  const hit = prober.state === "done" && sprayer.state === "done" &&
    samePair(prober.pair!.remote, {
      address: SPRAYER_PUBLIC,
      port: sprayerNat.publicPortOf(sprayerInside(sprayer.pair!.socket), {
        address: PROBER_PUBLIC,
        port: 50_000,
      })!,
    }) && samePair(sprayer.pair!.remote, { address: PROBER_PUBLIC, port: 50_000 });
  return {
    hit,
    ms: now,
    proberSent: prober.sent,
    sprayerSent: sprayer.sent,
    sprayerMappings: sprayerNat.mappings,
  };
}

function samePair(a: BirthdayAddress, b: BirthdayAddress): boolean {
  return a.address === b.address && a.port === b.port;
}
