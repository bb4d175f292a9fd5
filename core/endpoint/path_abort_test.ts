// One abort reaches a dial in the middle of its work, with real sockets: a direct QUIC
// handshake to an address that never answers, and a relayed one to a key that is not at
// the relay. Each gives up at once and leaves nothing open (the test sanitizers check).
import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { createRelayServer, serveRelay } from "../relay/mod.ts";
import { ALPN } from "../tunnel/mod.ts";
import { dialPath, type DirectAddress, type RelayAddress } from "./mod.ts";

const target = { endpointId: SecretKey.generate().endpointId, alpn: ALPN };

/** Aborts after `ms`; resolves with how long the dial took to give up after that. */
async function abortedAfter(ms: number, dial: (signal: AbortSignal) => Promise<unknown>) {
  const controller = new AbortController();
  const reason = new Error("another path won");
  const timer = setTimeout(() => controller.abort(reason), ms);
  const started = performance.now();
  try {
    await assert.rejects(dial(controller.signal), (error) => error === reason);
    return performance.now() - started - ms;
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("a direct dial gives up mid-handshake once aborted", async () => {
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = silent.addr as Deno.NetAddr;
    const address: DirectAddress = { kind: "direct", addrs: [{ hostname: "127.0.0.1", port }] };
    const late = await abortedAfter(300, (signal) => dialPath(target, address, { signal }));
    assert.ok(late < 500, `gave up ${late.toFixed(0)} ms after the abort`);
  } finally {
    silent.close();
  }
});

Deno.test("a relayed dial gives up once aborted and closes its relay client", async () => {
  const relay = createRelayServer();
  const http = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
  try {
    const address: RelayAddress = { kind: "relay", url: `http://127.0.0.1:${http.port}` };
    const late = await abortedAfter(500, (signal) => dialPath(target, address, { signal }));
    assert.ok(late < 500, `gave up ${late.toFixed(0)} ms after the abort`);
  } finally {
    relay.close();
    await http.shutdown();
  }
});

Deno.test("a dial whose signal is already aborted does not start", async () => {
  const controller = new AbortController();
  controller.abort(new Error("already won"));
  const address: RelayAddress = { kind: "relay", url: "http://127.0.0.1:9" };
  await assert.rejects(dialPath(target, address, { signal: controller.signal }), /already won/);
});
