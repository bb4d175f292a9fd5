import assert from "node:assert/strict";
import {
  BIRTHDAY_LINGER_MS,
  BIRTHDAY_MAX_ANSWERS,
  BIRTHDAY_MAX_CONFIRMS,
  BirthdaySession,
} from "./birthday_session.ts";
import {
  BIRTHDAY_PROBES,
  BIRTHDAY_SOCKETS,
  BIRTHDAY_SPRAY_ROUNDS,
  BIRTHDAY_TIMEOUT_MS,
  seededRandom,
} from "./birthday_plan.ts";
import { decodeBirthday, encodeBirthday } from "./birthday_message.ts";

const TOKEN = new Uint8Array(16).fill(3);
const OTHER = new Uint8Array(16).fill(4);
const SPRAYER_IP = "198.51.100.20";
const PROBER = { address: "198.51.100.10", port: 50_000 };

const prober = () =>
  new BirthdaySession({
    role: "prober",
    token: TOKEN,
    peer: { address: SPRAYER_IP, port: 0 },
    random: seededRandom(1),
  });
const sprayer = (sockets = BIRTHDAY_SOCKETS) =>
  new BirthdaySession({
    role: "sprayer",
    token: TOKEN,
    peer: PROBER,
    sockets,
    random: Math.random,
  });

/** Polls every ms up to `untilMs`, counting sends. */
function run(session: BirthdaySession, untilMs: number, from = 0): number {
  let sent = 0;
  for (let t = from; t <= untilMs; t++) sent += session.poll(t).length;
  return sent;
}

Deno.test("prober: sends its probe budget over the spread, to distinct ports of the peer's IP, then gives up", () => {
  const session = prober();
  const ports = new Set<number>();
  for (let t = 0; t <= BIRTHDAY_TIMEOUT_MS + 10; t++) {
    for (const send of session.poll(t)) {
      assert.equal(send.to.address, SPRAYER_IP);
      assert.equal(decodeBirthday(send.data, TOKEN), "probe");
      ports.add(send.to.port);
      assert.ok(t < 2_000, `a probe at ${t} ms`);
    }
  }
  assert.equal(ports.size, BIRTHDAY_PROBES);
  assert.equal(session.state, "failed");
  assert.match(session.failure!, /no reply to 1024 probes within 4000 ms/);
  assert.equal(session.poll(BIRTHDAY_TIMEOUT_MS + 100).length, 0, "nothing after the end");
});

Deno.test("sprayer: one probe per socket per round, three rounds, then nothing; fails at the deadline", () => {
  const session = sprayer();
  const sent = run(session, BIRTHDAY_TIMEOUT_MS + 10);
  assert.equal(sent, BIRTHDAY_SOCKETS * BIRTHDAY_SPRAY_ROUNDS);
  assert.equal(session.state, "failed");
});

Deno.test("bounds: more sockets or probes than the budget, or a longer timeout, are refused", () => {
  assert.throws(() => sprayer(BIRTHDAY_SOCKETS + 1), RangeError);
  assert.throws(() => sprayer(0), RangeError);
  assert.throws(
    () =>
      new BirthdaySession({
        role: "prober",
        token: TOKEN,
        peer: PROBER,
        probes: BIRTHDAY_PROBES + 1,
        random: Math.random,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      new BirthdaySession({
        role: "prober",
        token: TOKEN,
        peer: PROBER,
        timeoutMs: BIRTHDAY_TIMEOUT_MS + 1,
        random: Math.random,
      }),
    RangeError,
  );
});

Deno.test("hit: reply -> chosen (repeated, bounded) -> ack; both agree and the sprayer lingers", () => {
  const p = prober();
  const s = sprayer(4);
  p.poll(0);
  s.poll(0);
  const landed = { address: SPRAYER_IP, port: 33_333 };
  // A probe lands on socket 2: the sprayer replies from it.
  const reply = s.receive(5, 2, PROBER, encodeBirthday("probe", TOKEN));
  assert.equal(reply.length, 1);
  assert.equal(reply[0].socket, 2);
  assert.equal(decodeBirthday(reply[0].data, TOKEN), "reply");
  // The prober takes the pair and says so.
  const chosen = p.receive(10, 0, landed, reply[0].data);
  assert.equal(decodeBirthday(chosen[0].data, TOKEN), "chosen");
  assert.deepEqual(chosen[0].to, landed);
  assert.equal(p.state, "confirming");
  // No more probes once a pair is chosen; `chosen` repeats, at most BIRTHDAY_MAX_CONFIRMS times.
  let repeats = 0;
  for (let t = 11; t < BIRTHDAY_TIMEOUT_MS; t++) {
    for (const send of p.poll(t)) {
      assert.equal(decodeBirthday(send.data, TOKEN), "chosen");
      repeats++;
    }
  }
  assert.equal(repeats, BIRTHDAY_MAX_CONFIRMS - 1);
  // The sprayer acks on socket 2 and lingers, acking repeats there only.
  const ack = s.receive(20, 2, PROBER, encodeBirthday("chosen", TOKEN));
  assert.equal(decodeBirthday(ack[0].data, TOKEN), "ack");
  assert.equal(s.state, "lingering");
  assert.equal(s.receive(21, 1, PROBER, encodeBirthday("chosen", TOKEN)).length, 0);
  assert.equal(s.receive(22, 2, PROBER, encodeBirthday("chosen", TOKEN)).length, 1);
  s.poll(20 + BIRTHDAY_LINGER_MS);
  assert.equal(s.state, "done");
  assert.deepEqual(s.pair, { socket: 2, remote: PROBER });
  // The ack from the chosen address ends the prober; from elsewhere it does not.
  p.receive(30, 0, { address: SPRAYER_IP, port: 1 }, encodeBirthday("ack", TOKEN));
  assert.equal(p.state, "confirming");
  p.receive(31, 0, landed, encodeBirthday("ack", TOKEN));
  assert.equal(p.state, "done");
  assert.deepEqual(p.pair, { socket: 0, remote: landed });
});

Deno.test("ignored: wrong token, garbage, another IP, a socket out of range", () => {
  const p = prober();
  const s = sprayer(2);
  p.poll(0);
  s.poll(0);
  const from = { address: SPRAYER_IP, port: 4_000 };
  for (const data of [encodeBirthday("reply", OTHER), new Uint8Array(21), new Uint8Array(3)]) {
    assert.equal(p.receive(1, 0, from, data).length, 0);
    assert.equal(s.receive(1, 0, PROBER, data).length, 0);
  }
  assert.equal(
    p.receive(1, 0, { address: "203.0.113.9", port: 4_000 }, encodeBirthday("reply", TOKEN)).length,
    0,
  );
  assert.equal(
    s.receive(1, 0, { address: "203.0.113.9", port: 50_000 }, encodeBirthday("probe", TOKEN))
      .length,
    0,
  );
  assert.equal(s.receive(1, 5, PROBER, encodeBirthday("probe", TOKEN)).length, 0);
  assert.equal(p.state, "punching");
  assert.equal(s.state, "punching");
});

Deno.test("a hostile peer cannot make the sprayer answer more than its budget", () => {
  const s = sprayer(2);
  s.poll(0);
  let answers = 0;
  for (let i = 0; i < 10_000; i++) {
    answers += s.receive(1, i % 2, PROBER, encodeBirthday("probe", TOKEN)).length;
  }
  assert.equal(answers, BIRTHDAY_MAX_ANSWERS);
});
