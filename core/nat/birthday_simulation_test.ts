import assert from "node:assert/strict";
import { simulateBirthday } from "./_birthday_simulation.ts";
import { BIRTHDAY_PROBES, BIRTHDAY_SOCKETS, BIRTHDAY_SPRAY_ROUNDS } from "./birthday_plan.ts";
import { BIRTHDAY_MAX_ANSWERS, BIRTHDAY_MAX_CONFIRMS } from "./birthday_session.ts";

const RUNS = 500;

/** Hit rate and median time to a pair over seeded runs. */
function measure(options: Omit<Parameters<typeof simulateBirthday>[0], "seed">) {
  let hits = 0;
  const times: number[] = [];
  for (let seed = 1; seed <= RUNS; seed++) {
    const result = simulateBirthday({ ...options, seed });
    if (result.hit) {
      hits++;
      times.push(result.ms);
    }
    // Budgets hold on every run, hit or miss.
    assert.ok(result.proberSent <= BIRTHDAY_PROBES + BIRTHDAY_MAX_CONFIRMS, `${result.proberSent}`);
    assert.ok(
      result.sprayerSent <=
        BIRTHDAY_SOCKETS * BIRTHDAY_SPRAY_ROUNDS + BIRTHDAY_MAX_ANSWERS,
      `${result.sprayerSent}`,
    );
    assert.ok(result.sprayerMappings <= (options.sockets ?? BIRTHDAY_SOCKETS));
  }
  times.sort((a, b) => a - b);
  return { rate: hits / RUNS, medianMs: times[Math.floor(times.length / 2)] ?? NaN };
}

Deno.test(`birthday punching through a random-port symmetric NAT: hit rate over ${RUNS} seeded runs`, () => {
  const full = measure({});
  const half = measure({ probes: 512 });
  const fewSockets = measure({ sockets: 64 });
  const late = measure({ offsetMs: 400, latencyMs: 40 });
  const lossy = measure({ loss: 0.05 });
  console.log(
    `RESULT | fake NAT | 256 sockets x 1024 probes: ${
      (full.rate * 100).toFixed(1)
    }% (median ${full.medianMs} ms)` +
      ` | x 512 probes: ${(half.rate * 100).toFixed(1)}% | 64 sockets x 1024: ${
        (fewSockets.rate * 100).toFixed(1)
      }%` +
      ` | sprayer 400 ms late, 40 ms one way: ${(late.rate * 100).toFixed(1)}%` +
      ` | 5% loss: ${(lossy.rate * 100).toFixed(1)}%`,
  );
  // Theory (1 - 256/64512)^1024 misses: 98.3% hits; 512 probes: 87%; 64 sockets: 63%.
  assert.ok(full.rate >= 0.95, `${full.rate}`);
  assert.ok(half.rate >= 0.8 && half.rate < full.rate, `${half.rate}`);
  assert.ok(fewSockets.rate >= 0.5 && fewSockets.rate < 0.75, `${fewSockets.rate}`);
  assert.ok(late.rate >= 0.9, `${late.rate}`);
  assert.ok(lossy.rate >= 0.9, `${lossy.rate}`);
  assert.ok(full.medianMs < 2_500, `${full.medianMs}`);
});

Deno.test("birthday punching: a stranger's garbage and forged tokens do not derail the punch", () => {
  let hits = 0;
  for (let seed = 1; seed <= 100; seed++) {
    if (simulateBirthday({ seed, stranger: true }).hit) hits++;
  }
  assert.ok(hits >= 95, `${hits} of 100`);
});
