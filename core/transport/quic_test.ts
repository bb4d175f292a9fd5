import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { AdmissionLimit } from "./admission.ts";
import type { PeerListener } from "./connection.ts";
import type { CongestionControl } from "./congestion.ts";
import { dialQuic, listenQuic, type ListenQuicOptions } from "./quic.ts";

const ALPN = "quic-test/1";
const LOOPBACK = "127.0.0.1";

/** The first datagram a QUIC client sends (its Initial), caught by a plain UDP socket. */
async function captureInitial(): Promise<Uint8Array> {
  const trap = Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 });
  try {
    const dial = dialQuic({
      addrs: [{ hostname: LOOPBACK, port: (trap.addr as Deno.NetAddr).port }],
      endpointId: SecretKey.generate().endpointId,
      alpn: ALPN,
      timeoutMs: 1_000,
    }).catch(() => undefined);
    const [data] = await trap.receive();
    await dial;
    return data.slice();
  } finally {
    trap.close();
  }
}

/** A loopback listener that records why handshakes failed. */
function recordingListener(key: SecretKey, options: Partial<ListenQuicOptions> = {}) {
  const failures: string[] = [];
  const listener = listenQuic({
    hostname: LOOPBACK,
    secretKey: key,
    alpn: ALPN,
    onHandshakeFailed: (_address, reason) => failures.push(reason),
    ...options,
  });
  return { listener, failures };
}

/** Dials `listener` as an honest client pinned to `key`. */
function dialListener(listener: PeerListener, key: SecretKey) {
  return dialQuic({
    addrs: [{ hostname: LOOPBACK, port: listener.addr.port }],
    endpointId: key.endpointId,
    alpn: ALPN,
    timeoutMs: 3_000,
  });
}

Deno.test("listenQuic() serves new clients at once while a replayed Initial stalls", async () => {
  const key = SecretKey.generate();
  const { listener, failures } = recordingListener(key, { handshakeTimeoutMs: 1_500 });
  const replayer = Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 });
  try {
    const initial = await captureInitial();
    const to: Deno.NetAddr = { transport: "udp", hostname: LOOPBACK, port: listener.addr.port };
    await replayer.send(initial, to);
    await new Promise((r) => setTimeout(r, 100));

    const started = performance.now();
    const accepted = listener.accept();
    const conn = await dialListener(listener, key);
    const server = await accepted;
    const elapsed = performance.now() - started;
    assert.ok(server, "the listener accepted the real client");
    assert.ok(elapsed < 1_000, `the real client waited ${elapsed.toFixed(0)} ms`);
    conn.close();
    server.close();

    // The replayed handshake is given up within its deadline.
    const deadline = Date.now() + 4_000;
    while (!failures.includes("handshake timed out") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(failures.includes("handshake timed out"), `failures: ${failures.join("; ")}`);
  } finally {
    replayer.close();
    listener.close();
  }
});

Deno.test("listenQuic() refuses handshakes past its per-address cap and recovers", async () => {
  const key = SecretKey.generate();
  const { listener, failures } = recordingListener(key, {
    handshakeTimeoutMs: 1_000,
    handshakeLimits: { total: 8, perAddress: 2 },
  });
  const replayers = Array.from(
    { length: 3 },
    () => Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 }),
  );
  try {
    const to: Deno.NetAddr = { transport: "udp", hostname: LOOPBACK, port: listener.addr.port };
    const initials: Uint8Array[] = [];
    for (const _ of replayers) initials.push(await captureInitial());
    await Promise.all(replayers.map((replayer, i) => replayer.send(initials[i], to)));
    const deadline = Date.now() + 3_000;
    while (failures.length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(
      failures.some((f) => /from one address \(2\)/.test(f)),
      `failures: ${failures.join("; ")}`,
    );
    assert.equal(failures.filter((f) => f === "handshake timed out").length, 2);

    // Once the stalled ones are gone, a real client from the same address gets in.
    const accepted = listener.accept();
    const conn = await dialListener(listener, key);
    assert.ok(await accepted);
    conn.close();
  } finally {
    replayers.forEach((r) => r.close());
    listener.close();
  }
});

Deno.test("listenQuic() refuses new attempts while a shared admission count is full, before any handshake", async () => {
  const key = SecretKey.generate();
  // The stage after the handshake (authentication) holds the only slot.
  const admission = new AdmissionLimit({ total: 1, perAddress: 1 });
  assert.equal(admission.tryAdmit("192.0.2.1"), undefined);
  const { listener, failures } = recordingListener(key, { admission });
  try {
    await assert.rejects(dialListener(listener, key), /connection refused/);
    assert.ok(failures.some((f) => /too many handshakes in progress \(1\)/.test(f)), `${failures}`);
    admission.release("192.0.2.1");
    const accepted = listener.accept();
    const conn = await dialListener(listener, key);
    assert.ok(await accepted);
    assert.equal(admission.total, 0, "the handshake's slot is given back once it is done");
    conn.close();
  } finally {
    listener.close();
  }
});

Deno.test("a dialer pinned to another key fails the handshake and the listener carries on", async () => {
  const key = SecretKey.generate();
  const listener = listenQuic({ hostname: LOOPBACK, secretKey: key, alpn: ALPN });
  try {
    const addrs = [{ hostname: LOOPBACK, port: listener.addr.port }];
    await assert.rejects(
      dialQuic({ addrs, endpointId: SecretKey.generate().endpointId, alpn: ALPN }),
      /identity did not match/,
    );
    const accepted = listener.accept();
    const conn = await dialQuic({ addrs, endpointId: key.endpointId, alpn: ALPN });
    assert.ok(await accepted);
    conn.close();
  } finally {
    listener.close();
  }
});

for (const congestionControl of ["default", "throughput", "low-latency"] as CongestionControl[]) {
  Deno.test(`a connection whose both ends use congestionControl "${congestionControl}" carries a stream both ways`, async () => {
    const key = SecretKey.generate();
    const listener = listenQuic({
      hostname: LOOPBACK,
      secretKey: key,
      alpn: ALPN,
      congestionControl,
    });
    try {
      const accepted = listener.accept();
      const client = await dialQuic({
        addrs: [{ hostname: LOOPBACK, port: listener.addr.port }],
        endpointId: key.endpointId,
        alpn: ALPN,
        congestionControl,
      });
      const server = await accepted;
      assert.ok(server);
      // Enough bytes for several congestion windows' worth of round trips.
      const payload = new Uint8Array(2 * 1024 * 1024).map((_, i) => i % 251);
      const stream = await client.openStream();
      const writing = (async () => {
        const writer = stream.writable.getWriter();
        await writer.write(payload);
        await writer.close();
      })();
      const echoing = (async () => {
        const incoming = await server.acceptStream();
        assert.ok(incoming);
        await incoming.readable.pipeTo(incoming.writable);
      })();
      const echoed = new Uint8Array(await new Response(stream.readable).arrayBuffer());
      await Promise.all([writing, echoing]);
      assert.deepEqual(echoed, payload);
      client.close();
      server.close();
    } finally {
      listener.close();
    }
  });
}

Deno.test("dialQuic() asks a congestion control choice about each address it tries", async () => {
  const key = SecretKey.generate();
  const listener = listenQuic({ hostname: LOOPBACK, secretKey: key, alpn: ALPN });
  const asked: string[] = [];
  try {
    const accepted = listener.accept();
    const conn = await dialQuic({
      addrs: [
        { hostname: "name.invalid", port: 1 },
        { hostname: LOOPBACK, port: listener.addr.port },
      ],
      endpointId: key.endpointId,
      alpn: ALPN,
      congestionControl: (hostname) => {
        asked.push(hostname);
        return "low-latency";
      },
    });
    assert.ok(await accepted);
    assert.deepEqual(asked, ["name.invalid", LOOPBACK]);
    conn.close();
  } finally {
    listener.close();
  }
});
