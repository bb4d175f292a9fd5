import { SecretKey } from "./core/identity/mod.ts";
import { dialQuic, listenQuic } from "./core/transport/mod.ts";
const key = SecretKey.generate();
const mode = Deno.args[0];
if (mode === "server") {
  const l = listenQuic({ hostname: Deno.args[1], port: 7100, secretKey: key, alpn: "p" });
  console.log(key.endpointId.toString());
  const c = (await l.accept())!;
  for (;;) {
    const d = await c.readDatagram();
    if (!d) break;
    c.sendDatagram(d);
  }
} else {
  const c = await dialQuic({
    addrs: [{ hostname: Deno.args[1], port: 7100 }],
    endpointId: (await import("./core/identity/mod.ts")).EndpointId.parse(Deno.args[2]),
    alpn: "p",
  });
  const rtts: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await c.sendDatagram(new Uint8Array(100));
    await c.readDatagram();
    rtts.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10));
  }
  rtts.sort((a, b) => a - b);
  console.log(
    `datagram ping-pong median ${(rtts[100] * 1000).toFixed(0)} µs, p90 ${
      (rtts[180] * 1000).toFixed(0)
    } µs`,
  );
  c.close();
}
