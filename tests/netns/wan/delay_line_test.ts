// STATUS: prototype (issue 20, item 1). The delay line's own test: it must not be the
// bottleneck of the WAN table, and must add the delay, loss and rate cap it is given.
// Needs root, iproute2, ethtool, iperf3 and ping; skips saying why otherwise.
import assert from "node:assert/strict";
import { runIperf3 } from "../../../bench/iperf3.ts";
import { pingRtts } from "../../../bench/ping_rtt.ts";
import { findTool } from "../command.ts";
import { createVethPair } from "../veth_pair.ts";
import { createWanPair, type WanPair, type WanPairOptions } from "./wan_pair.ts";

function skipReason(): string | undefined {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (Deno.uid() !== 0) return "not root (namespaces need CAP_SYS_ADMIN)";
  const tools = [["ip", "iproute2"], ["ethtool", "ethtool"], ["iperf3", "iperf3"], [
    "ping",
    "iputils-ping",
  ]];
  const missing = tools.filter(([name]) => !findTool(name));
  if (missing.length === 0) return undefined;
  return `missing tools: ${missing.map(([name, pkg]) => `${name} (${pkg})`).join(", ")}`;
}
const reason = skipReason();
if (reason) console.log(`delay_line_test.ts skipped: ${reason}`);

const IPERF_SECONDS = 4;
const PORT = 5201;

async function withWan(options: WanPairOptions, fn: (wan: WanPair) => Promise<void>) {
  const wan = await createWanPair(options);
  let report;
  try {
    await fn(wan);
  } finally {
    report = await wan.close();
  }
  console.log("delay line counters:", JSON.stringify(report));
  assert.ok(report, "the delay line reported its counters");
  for (const side of [report.ab, report.ba]) {
    assert.equal(side.truncated, 0, "no frame longer than a slot: offloads are off");
    assert.equal(side.noSlot, 0, "slots never ran out");
  }
  return report;
}

const iperf = (
  pair: { left: { ns: string }; right: { ns: string; ip: string } },
  port = PORT,
) =>
  runIperf3({
    serverPort: port,
    clientPort: port,
    durationSec: IPERF_SECONDS,
    hostname: pair.right.ip,
    namespaces: { server: pair.right.ns, client: pair.left.ns },
  });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

Deno.test({
  name: "delay line at zero delay: capacity next to a bare veth (iperf3 TCP)",
  ignore: reason !== undefined,
  fn: async () => {
    const veth = await createVethPair();
    let direct;
    try {
      direct = await iperf(veth);
    } finally {
      await veth.close();
    }
    let through = 0;
    await withWan({}, async (wan) => {
      through = (await iperf(wan)).mbPerSec;
      // A UDP flood shows the packet rate it reaches (printed, not asserted). The iperf3
      // server's socket buffer overflows first (UdpRcvbufErrors): the line's counters
      // (offered = departed) tell what it carried.
      const udp = await runIperf3({
        serverPort: PORT,
        clientPort: PORT,
        durationSec: 3,
        hostname: wan.right.ip,
        namespaces: { server: wan.right.ns, client: wan.left.ns },
        udp: { bitrate: "2G", length: 1400 },
      });
      console.log(
        `iperf3 UDP flood of 1,400-byte datagrams through the delay line: ` +
          `${udp.datagramsPerSec?.toFixed(0)} datagrams/s arrived, ${
            udp.mbPerSec.toFixed(0)
          } MB/s, ${udp.lostPercent?.toFixed(1)}% lost`,
      );
    });
    console.log(
      `iperf3 TCP ${IPERF_SECONDS} s: veth ${direct.mbPerSec.toFixed(0)} MB/s, ` +
        `through the delay line ${through.toFixed(0)} MB/s`,
    );
    // The WAN rows run at tens of MB/s at most (one QUIC stream at 80 ms: ~13 MB/s).
    assert.ok(through > 50, `${through} MB/s`);
  },
});

Deno.test({
  name: "delay line adds the configured one-way delay both ways (ping RTT)",
  ignore: reason !== undefined,
  fn: async () => {
    const oneWayMs = 20;
    const settings = { delayUs: oneWayMs * 1000 };
    await withWan({ ab: settings, ba: settings }, async (wan) => {
      const rtts = await pingRtts(wan.right.ip, { ns: wan.left.ns, count: 50, intervalSec: 0.05 });
      const extraUs = rtts.map((us) => us - 2 * oneWayMs * 1000).sort((a, b) => a - b);
      console.log(
        `ping through 2 x ${oneWayMs} ms: ${rtts.length} replies, RTT above 40 ms by ` +
          `p50 ${median(extraUs).toFixed(0)} µs, max ${extraUs[extraUs.length - 1].toFixed(0)} µs`,
      );
      assert.equal(rtts.length, 50);
      assert.ok(extraUs[0] >= 0, "never early");
      assert.ok(median(extraUs) < 1000, `median ${median(extraUs)} µs late`);
    });
  },
});

Deno.test({
  name: "delay line loses the configured share of frames (5% one way, seeded)",
  ignore: reason !== undefined,
  fn: async () => {
    const count = 2000;
    let replies = 0;
    const report = await withWan({ ab: { loss: 0.05, seed: 1 } }, async (wan) => {
      // Arp first, so the lossy direction carries only echo requests afterwards.
      await pingRtts(wan.right.ip, { ns: wan.left.ns, count: 3, intervalSec: 0.05 });
      replies = (await pingRtts(wan.right.ip, { ns: wan.left.ns, count, intervalSec: 0.002 }))
        .length;
    });
    const share = report.ab.lost / report.ab.offered;
    console.log(
      `5% loss: ${report.ab.lost} of ${report.ab.offered} frames dropped (${
        (share * 100).toFixed(2)
      }%); ping ${count - replies} of ${count} unanswered`,
    );
    assert.ok(Math.abs(share - 0.05) < 0.015, `${share}`);
    assert.ok(Math.abs((count - replies) / count - 0.05) < 0.02, `${replies} replies`);
    assert.equal(report.ba.lost, 0);
  },
});

Deno.test({
  name: "delay line caps the rate at 80 Mbit/s with a drop-tail queue (iperf3 TCP)",
  ignore: reason !== undefined,
  fn: async () => {
    let mbPerSec = 0;
    let report;
    // iperf3's end-of-test exchange sometimes hangs past its deadline behind the drop-tail
    // queue when this file runs whole (seen in CI; the case alone passes, the line's counters
    // stay sound), and a second run on the same line hangs too. Not understood yet: a hang
    // gets a fresh line (namespaces and delay line) and another run, twice at most, and
    // the rate is asserted on the first run that completes.
    for (let attempt = 1;; attempt++) {
      try {
        report = await withWan(
          {
            ab: { rateBitsPerSecond: 80e6, queueBytes: 100_000, delayUs: 5000 },
            ba: { delayUs: 5000 },
          },
          async (wan) => {
            mbPerSec = (await iperf(wan)).mbPerSec;
          },
        );
        break;
      } catch (error) {
        if (attempt === 3 || !/timed out/.test((error as Error).message)) throw error;
        console.log(`iperf3 run ${attempt} timed out; again on a fresh line`);
      }
    }
    // 80 Mbit/s of frames is 10 MB/s; TCP payload is 1448 of each 1514-byte frame.
    const ceiling = 80e6 / 8 / 1e6 * 1448 / 1514;
    console.log(
      `80 Mbit/s cap: iperf3 ${mbPerSec.toFixed(2)} MB/s (payload ceiling ${
        ceiling.toFixed(2)
      }), ${report.ab.overflowed} frames dropped by the queue`,
    );
    assert.ok(mbPerSec <= ceiling * 1.02 && mbPerSec > ceiling * 0.75, `${mbPerSec} MB/s`);
  },
});
