// QUIC through a relay (client -> shim -> relay -> shim -> listener) passes the
// same compliance suite as direct QUIC and the in-memory pair.
import { SecretKey } from "../identity/mod.ts";
import { describeTransportCompliance } from "../transport/compliance.ts";
import { listenQuic } from "../transport/mod.ts";
import { dialViaRelay, serveViaRelay } from "./relay_path.ts";
import { serveRelay } from "./serve_relay.ts";
import { createRelayServer } from "./server.ts";

const ALPN = "relay-compliance/1";

/** A pair through a relay on loopback; `paced` as a relay across a network would have it. */
async function relayPair(paced?: boolean) {
  const relay = createRelayServer();
  const http = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
  const relayUrl = `http://127.0.0.1:${http.port}`;
  const key = SecretKey.generate();
  const listener = listenQuic({ hostname: "127.0.0.1", secretKey: key, alpn: ALPN });
  const presence = serveViaRelay({
    relayUrl,
    secretKey: key,
    listenerPort: listener.addr.port,
    paced,
  });
  const shutdown = async () => {
    presence.close();
    listener.close();
    relay.close();
    await http.shutdown();
  };
  try {
    await presence.relay.ready();
    const accepted = listener.accept();
    const a = await dialViaRelay({ relayUrl, serverId: key.endpointId, alpn: ALPN, paced });
    const b = await accepted;
    if (!b) throw new Error("Cannot make a relay pair: the listener closed before accepting");
    return {
      a,
      b,
      async close() {
        a.close();
        b.close();
        await Promise.all([a.closed, b.closed]);
        await shutdown();
      },
    };
  } catch (error) {
    await shutdown();
    throw error;
  }
}

const expectedFailures = {
  "writer.abort() makes the peer's reads fail (reset)":
    "Deno 2.9's QUIC cannot send RESET_STREAM (see the direct QUIC suite)",
};

describeTransportCompliance("QUIC through the relay", () => relayPair(), { expectedFailures });
describeTransportCompliance("QUIC through the relay, paced into QUIC", () => relayPair(true), {
  expectedFailures,
});
