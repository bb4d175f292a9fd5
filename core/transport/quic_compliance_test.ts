import { SecretKey } from "../identity/mod.ts";
import { describeTransportCompliance } from "./compliance.ts";
import { dialQuic, listenQuic } from "./quic.ts";

const ALPN = "compliance/1";

describeTransportCompliance("QUIC on loopback", async () => {
  const key = SecretKey.generate();
  const listener = listenQuic({ hostname: "127.0.0.1", secretKey: key, alpn: ALPN });
  try {
    const accepted = listener.accept();
    const a = await dialQuic({ addrs: [listener.addr], endpointId: key.endpointId, alpn: ALPN });
    const b = await accepted;
    if (!b) throw new Error("Cannot make a QUIC pair: the listener closed before accepting");
    return {
      a,
      b,
      async close() {
        a.close();
        b.close();
        await Promise.all([a.closed, b.closed]);
        listener.close();
      },
    };
  } catch (error) {
    listener.close();
    throw error;
  }
}, {
  expectedFailures: {
    "writer.abort() makes the peer's reads fail (reset)":
      "Deno 2.9's abort() closes the send stream's resource, and quinn finishes a dropped " +
      "SendStream: the peer sees a clean end (FIN), not a reset",
  },
});
