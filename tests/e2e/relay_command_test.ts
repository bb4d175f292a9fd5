// `tunnel relay` as a user runs it: two relay clients meet through it, it
// stores and serves discovery records, answers STUN, and reports metrics.
import assert from "node:assert/strict";
import { publishRecord, resolveRecord } from "../../core/discovery/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { RelayClient } from "../../core/relay/mod.ts";
import { ManagedProcess, tunnelCommandArgs } from "../harness/mod.ts";

async function startRelayCommand(extra: string[] = []) {
  const proc = ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs([
      "relay",
      "--bind",
      "127.0.0.1:0",
      "--stun-bind",
      "127.0.0.1:0",
      ...extra,
    ]),
  });
  const listening = await proc.waitForLine(/^Relay listening on /, { timeoutMs: 20_000 });
  const stun = await proc.waitForLine(/^STUN on udp /, { timeoutMs: 20_000 });
  await proc.waitForLine("Relay ready", { timeoutMs: 20_000 });
  return {
    proc,
    url: listening.replace("Relay listening on ", "").replace(/\/$/, ""),
    stunPort: Number(stun.slice(stun.lastIndexOf(":") + 1)),
  };
}

Deno.test("tunnel relay: clients meet, records are served, STUN is answered, metrics count", async () => {
  const { proc, url, stunPort } = await startRelayCommand();
  await using _ = proc;
  const a = SecretKey.generate();
  const b = SecretKey.generate();
  const received: Uint8Array[] = [];
  const clientA = RelayClient.connect({ url, secretKey: a, onDatagram() {} });
  const clientB = RelayClient.connect({
    url,
    secretKey: b,
    onDatagram: (_s, p) => received.push(p),
  });
  const stun = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await Promise.all([clientA.ready(), clientB.ready()]);
    clientA.send(b.endpointId.bytes, new TextEncoder().encode("through tunnel relay"));
    const deadline = Date.now() + 3_000;
    while (received.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(new TextDecoder().decode(received[0]), "through tunnel relay");

    const record = {
      relayUrls: [`${url}/`],
      addrs: [{ hostname: "192.0.2.1", port: 7000 }],
      timestampMicros: BigInt(Date.now()) * 1000n,
    };
    await publishRecord(a, record, { relayUrl: `${url}/pkarr` });
    const resolved = await resolveRecord(a.endpointId, { relayUrl: `${url}/pkarr` });
    assert.deepEqual(resolved?.relayUrls, record.relayUrls);

    // A STUN Binding request: type 0x0001, length 0, magic cookie, transaction id.
    const request = new Uint8Array(20);
    request.set([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]);
    crypto.getRandomValues(request.subarray(8));
    await stun.send(request, { transport: "udp", hostname: "127.0.0.1", port: stunPort });
    const [answer] = await stun.receive();
    assert.equal((answer[0] << 8) | answer[1], 0x0101, "a Binding success response");
    assert.deepEqual(answer.subarray(8, 20), request.subarray(8, 20));

    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^tunnel_relay_clients 2$/m);
    assert.match(metrics, /^tunnel_relay_datagrams_forwarded_total 1$/m);
  } finally {
    clientA.close();
    clientB.close();
    stun.close();
  }
});

Deno.test("tunnel relay: bad flags are one usage line", async () => {
  for (
    const [args, pattern] of [
      [["--tls-cert", "x.pem"], /Use --tls-cert and --tls-key together/],
      [["--no-stun", "--stun-bind", "127.0.0.1:1"], /Use either --no-stun or --stun-bind/],
      [["--allowed-endpoint", "nope"], /Invalid EndpointId/],
      [["--max-clients", "0"], /--max-clients/],
    ] as const
  ) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: tunnelCommandArgs(["relay", "--bind", "127.0.0.1:0", ...args]),
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr).trim();
    assert.equal(code, 2, text);
    assert.equal(text.split("\n").length, 1, text);
    assert.match(text, pattern);
  }
});
