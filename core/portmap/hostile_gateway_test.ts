// Hostile gateways on loopback, no namespaces: wrong sizes, wrong ports, answers from
// another address, floods, huge SSDP and XML bodies, a slowloris HTTP server. Each bad
// answer is ignored with one line; every attempt ends within its deadline.
import { equal, ok } from "node:assert/strict";
import { type PortMapEvent, PortMapper } from "./port_mapper.ts";

const GATEWAY = "127.0.0.1";
const OTHER = "127.0.0.2"; // also loopback on Linux: "another address on the LAN"

type Reply = { from: "gateway" | "other"; data: Uint8Array }[];

// A UDP "gateway" that answers each request with what `answer` returns.
function udpGateway(answer: (request: Uint8Array) => Reply) {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: GATEWAY, port: 0 });
  const other = Deno.listenDatagram({ transport: "udp", hostname: OTHER, port: 0 });
  (async () => {
    for await (const [request, from] of socket) {
      for (const r of answer(request)) {
        await (r.from === "gateway" ? socket : other).send(r.data, from).catch(() => {});
      }
    }
  })().catch(() => {});
  return {
    port: (socket.addr as Deno.NetAddr).port,
    close: () => {
      socket.close();
      other.close();
    },
  };
}

function recorder() {
  const events: PortMapEvent[] = [];
  return {
    events,
    onEvent: (e: PortMapEvent) => events.push(e),
    lines: (t: string) =>
      events.filter((e) => e.type === t).map((e) => (e as { line: string }).line),
  };
}

function pcpAnswer(
  request: Uint8Array,
  edit: { port?: number; address?: number[]; size?: number } = {},
) {
  const a = new Uint8Array(edit.size ?? 60);
  const v = new DataView(a.buffer);
  a[0] = 2;
  a[1] = 0x81;
  v.setUint32(4, 60);
  a.set(request.subarray(24, Math.min(60, a.length)), 24);
  if (a.length >= 44) {
    if (edit.port !== undefined) v.setUint16(40, edit.port);
    v.setUint16(42, 40000);
  }
  if (a.length >= 60) {
    a.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...(edit.address ?? [198, 51, 100, 10])], 44);
  }
  return a;
}

const oneLine = (lines: string[]) => lines.every((l) => l.length > 0 && !l.includes("\n"));

Deno.test("PCP: wrong size, port, nonce, address and sender are ignored; the good answer wins", async () => {
  const gw = udpGateway((req) => {
    if (req[0] !== 2) return [];
    const wrongNonce = pcpAnswer(req);
    wrongNonce[25] ^= 0xff;
    return [
      { from: "gateway", data: pcpAnswer(req).subarray(0, 52) },
      { from: "gateway", data: pcpAnswer(req, { port: 1 }) },
      { from: "gateway", data: wrongNonce },
      { from: "gateway", data: pcpAnswer(req, { address: [0, 0, 0, 0] }) },
      { from: "gateway", data: pcpAnswer(req, { address: [192, 168, 1, 1] }) },
      { from: "other", data: pcpAnswer(req) },
      { from: "gateway", data: pcpAnswer(req) },
    ];
  });
  const r = recorder();
  const mapper = new PortMapper({
    internalPort: 4433,
    gateway: GATEWAY,
    localAddress: GATEWAY,
    prefixLength: 8,
    protocols: ["pcp"],
    io: { gatewayPort: gw.port },
    onEvent: r.onEvent,
  });
  try {
    const m = await mapper.start();
    equal(m?.external.address, "198.51.100.10");
    equal(m?.external.port, 40000);
    const ignored = r.lines("ignored");
    ok(ignored.length >= 6 && oneLine(ignored), ignored.join("\n"));
    ok(ignored.some((l) => l.includes("60 bytes") || l.includes("52 bytes")), ignored.join("\n"));
    ok(ignored.some((l) => l.includes("internal port 1")));
    ok(ignored.some((l) => l.includes("nonce")));
    ok(ignored.some((l) => l.includes("0.0.0.0")));
    ok(ignored.some((l) => l.includes("192.168.1.1")));
    ok(ignored.some((l) => l.includes(`from ${OTHER}`)));
  } finally {
    await mapper.close();
    gw.close();
  }
});

Deno.test("NAT-PMP: a flood of bad answers gives up after 64, within the deadline", async () => {
  let sent = 0;
  const gw = udpGateway(() => {
    sent += 200;
    return Array.from(
      { length: 200 },
      () => ({ from: "gateway" as const, data: new Uint8Array(13) }),
    );
  });
  const r = recorder();
  const mapper = new PortMapper({
    internalPort: 4433,
    gateway: GATEWAY,
    localAddress: GATEWAY,
    protocols: ["nat-pmp"],
    deadlines: { "nat-pmp": 2_000 },
    io: { gatewayPort: gw.port },
    onEvent: r.onEvent,
  });
  try {
    const started = Date.now();
    equal(await mapper.start(), undefined);
    ok(Date.now() - started < 2_500);
    ok(sent >= 200);
    const ignored = r.lines("ignored");
    ok(ignored.length <= 64, `${ignored.length} ignored lines`);
    const [line] = r.lines("unavailable");
    ok(line.includes("bad answers, giving up") || line.includes("in time"), line);
  } finally {
    await mapper.close();
    gw.close();
  }
});

Deno.test("NAT-PMP: a private external address is refused; silence ends at the deadline", async () => {
  const gw = udpGateway((req) =>
    req.length === 2
      ? [{ from: "gateway", data: new Uint8Array([0, 128, 0, 0, 0, 0, 0, 1, 10, 0, 0, 1]) }]
      : []
  );
  const r = recorder();
  const mapper = new PortMapper({
    internalPort: 4433,
    gateway: GATEWAY,
    localAddress: GATEWAY,
    protocols: ["nat-pmp"],
    deadlines: { "nat-pmp": 600 },
    io: { gatewayPort: gw.port },
    onEvent: r.onEvent,
  });
  try {
    const started = Date.now();
    equal(await mapper.start(), undefined);
    const took = Date.now() - started;
    ok(took >= 590 && took < 1_500, `took ${took} ms`);
    ok(r.lines("ignored").some((l) => l.includes("10.0.0.1")));
    equal(r.lines("unavailable").length, 1);
  } finally {
    await mapper.close();
    gw.close();
  }
});

// An SSDP responder plus a raw TCP "HTTP" server that does what `serve` says.
function upnpGateway(
  ssdpAnswers: (httpPort: number) => Uint8Array[],
  serve: (conn: Deno.TcpConn) => Promise<void>,
) {
  const http = Deno.listen({ hostname: GATEWAY, port: 0 });
  const httpPort = (http.addr as Deno.NetAddr).port;
  const conns: Deno.TcpConn[] = [];
  (async () => {
    for await (const conn of http) {
      conns.push(conn);
      serve(conn).catch(() => {}).finally(() => {
        try {
          conn.close();
        } catch { /* closed */ }
      });
    }
  })().catch(() => {});
  const ssdp = udpGateway(() =>
    ssdpAnswers(httpPort).map((data) => ({ from: "gateway" as const, data }))
  );
  return {
    ssdpPort: ssdp.port,
    close: () => {
      ssdp.close();
      http.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

const ssdpAnswer = (location: string) =>
  new TextEncoder().encode(
    `HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: ${location}\r\n\r\n`,
  );

async function readRequest(conn: Deno.TcpConn) {
  const buffer = new Uint8Array(4096);
  await conn.read(buffer);
}

function upnpMapper(ssdpPort: number, r: ReturnType<typeof recorder>, deadline: number) {
  return new PortMapper({
    internalPort: 4433,
    gateway: GATEWAY,
    localAddress: GATEWAY,
    protocols: ["upnp"],
    deadlines: { upnp: deadline },
    io: { ssdpTarget: { hostname: GATEWAY, port: ssdpPort } },
    onEvent: r.onEvent,
  });
}

Deno.test("UPnP: huge SSDP answers and foreign LOCATIONs are ignored; a huge description is cut off", async () => {
  let served = 0;
  const gw = upnpGateway((httpPort) => [
    new Uint8Array(3000).fill(65),
    ssdpAnswer(`http://127.0.0.9:${httpPort}/rootDesc.xml`),
    ssdpAnswer(`https://${GATEWAY}:${httpPort}/rootDesc.xml`),
    ssdpAnswer(`http://${GATEWAY}:${httpPort}/rootDesc.xml`),
  ], async (conn) => {
    await readRequest(conn);
    const head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<root>";
    await conn.write(new TextEncoder().encode(head));
    const chunk = new TextEncoder().encode("<service>".repeat(1000));
    for (let i = 0; i < 10_000; i++) { // 90 MB unless the client hangs up
      served += chunk.length;
      await conn.write(chunk);
    }
  });
  const r = recorder();
  const mapper = upnpMapper(gw.ssdpPort, r, 3_000);
  try {
    const started = Date.now();
    equal(await mapper.start(), undefined);
    ok(Date.now() - started < 3_000);
    const ignored = r.lines("ignored");
    ok(oneLine(ignored));
    ok(ignored.some((l) => l.includes("over 2048 bytes")), ignored.join("\n"));
    ok(ignored.some((l) => l.includes("127.0.0.9")), ignored.join("\n"));
    ok(ignored.some((l) => l.includes("plain http")), ignored.join("\n"));
    const [line] = r.lines("unavailable");
    ok(line.includes("exceeds"), line);
    ok(served < 90_000_000, `stopped reading early (${served} bytes written)`);
  } finally {
    await mapper.close();
    gw.close();
  }
});

Deno.test("UPnP: a slowloris description server is cut off at the deadline", async () => {
  const gw = upnpGateway(
    (httpPort) => [ssdpAnswer(`http://${GATEWAY}:${httpPort}/rootDesc.xml`)],
    async (conn) => {
      await readRequest(conn);
      for (
        const byte of new TextEncoder().encode(
          "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<root>",
        )
      ) {
        await conn.write(new Uint8Array([byte]));
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  );
  const r = recorder();
  const mapper = upnpMapper(gw.ssdpPort, r, 800);
  try {
    const started = Date.now();
    equal(await mapper.start(), undefined);
    const took = Date.now() - started;
    ok(took >= 790 && took < 1_800, `took ${took} ms`);
    const [line] = r.lines("unavailable");
    ok(line.includes("timed out"), line);
  } finally {
    await mapper.close();
    gw.close();
  }
});

Deno.test("UPnP: the search is sent again after 1 s; no SSDP answer ends at the deadline", async () => {
  let searches = 0;
  const gw = upnpGateway(() => {
    searches++;
    return [];
  }, async () => {});
  const r = recorder();
  const mapper = upnpMapper(gw.ssdpPort, r, 1_300);
  try {
    const started = Date.now();
    equal(await mapper.start(), undefined);
    ok(Date.now() - started < 2_200);
    equal(searches, 4, "IGD:1 and IGD:2, twice");
    ok(r.lines("unavailable")[0].includes("no IGD answered"), r.lines("unavailable")[0]);
  } finally {
    await mapper.close();
    gw.close();
  }
});

Deno.test("UPnP: a description server that never completes the TCP handshake is cut off at the deadline", async () => {
  // A listener that never accepts: once its accept queue is full (511 here), the kernel drops
  // further SYNs and a connect hangs, as it would towards a silent host.
  const silent = Deno.listen({ hostname: GATEWAY, port: 0 });
  const port = (silent.addr as Deno.NetAddr).port;
  const filler: Deno.TcpConn[] = [];
  const gw = upnpGateway(
    () => [ssdpAnswer(`http://${GATEWAY}:${port}/rootDesc.xml`)],
    async () => {},
  );
  try {
    for (let i = 0; i < 4096; i++) {
      const conn = await Promise.race([
        Deno.connect({ hostname: GATEWAY, port }),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
      ]);
      if (!conn) break;
      filler.push(conn);
    }
    const r = recorder();
    const mapper = upnpMapper(gw.ssdpPort, r, 800);
    const started = Date.now();
    equal(await mapper.start(), undefined);
    const took = Date.now() - started;
    ok(took >= 790 && took < 1_800, `took ${took} ms`);
    ok(r.lines("unavailable")[0].includes("timed out"), r.lines("unavailable")[0]);
    await mapper.close();
  } finally {
    for (const c of filler) c.close();
    silent.close();
    gw.close();
  }
});

// Reads one HTTP request whole (head and Content-Length body).
async function readWholeRequest(conn: Deno.TcpConn): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(4096);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) return text;
    text += new TextDecoder().decode(buffer.subarray(0, n));
    const end = text.indexOf("\r\n\r\n");
    const length = Number(/content-length: *([0-9]+)/i.exec(text)?.[1] ?? 0);
    if (end >= 0 && text.length >= end + 4 + length) return text;
  }
}

const DESCRIPTION = `<?xml version="1.0"?><root><device><serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
<controlURL>/ctl/IPConn</controlURL></service></serviceList></device></root>`;

function soapReply(action: string, inner = "") {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n<s:Envelope><s:Body><u:${action}Response xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">${inner}</u:${action}Response></s:Body></s:Envelope>`;
}

function soapFault(code: number) {
  const body =
    `<s:Envelope><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode><errorDescription>E${code}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`;
  return `HTTP/1.1 500 Internal Server Error\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

Deno.test("UPnP: a conflict picks another port, 'permanent only' asks for lease 0, close deletes", async () => {
  const actions: string[] = [];
  let adds = 0;
  const gw = upnpGateway(
    (httpPort) => [ssdpAnswer(`http://${GATEWAY}:${httpPort}/rootDesc.xml`)],
    async (conn) => {
      const request = await readWholeRequest(conn);
      const action = /SOAPAction: *"[^#]*#(\w+)"/i.exec(request)?.[1] ?? "GET";
      const port = /<NewExternalPort>([0-9]+)</.exec(request)?.[1];
      const lease = /<NewLeaseDuration>([0-9]+)</.exec(request)?.[1];
      actions.push(port ? `${action} ${port} lease ${lease ?? "-"}` : action);
      let reply: string;
      if (action === "GET") reply = `HTTP/1.1 200 OK\r\n\r\n${DESCRIPTION}`;
      else if (action === "GetExternalIPAddress") {
        reply = soapReply(action, "<NewExternalIPAddress>198.51.100.10</NewExternalIPAddress>");
      } else if (action === "AddPortMapping") {
        reply = [soapFault(718), soapFault(725)][adds++] ??
          soapReply(action);
      } else reply = soapReply(action);
      await conn.write(new TextEncoder().encode(reply));
    },
  );
  const r = recorder();
  const mapper = upnpMapper(gw.ssdpPort, r, 2_000);
  try {
    const m = await mapper.start();
    equal(m?.protocol, "upnp");
    equal(m?.lifetimeSeconds, 0, "permanent after 725");
    ok(m!.external.port !== 4433, "another port after the 718 conflict");
    await mapper.close();
    equal(actions[0], "GET");
    equal(actions[1], "GetExternalIPAddress");
    equal(actions[2], "AddPortMapping 4433 lease 7200");
    ok(new RegExp(`^AddPortMapping ${m!.external.port} lease 7200$`).test(actions[3]), actions[3]);
    equal(actions[4], `AddPortMapping ${m!.external.port} lease 0`);
    equal(actions[5], `DeletePortMapping ${m!.external.port} lease -`);
    equal(actions.length, 6);
  } finally {
    gw.close();
  }
});

Deno.test("a NAT-PMP-only gateway's 'unsupported version' answer to PCP moves on to NAT-PMP at once", async () => {
  const gw = udpGateway((req) => {
    if (req[0] === 2) {
      return [{ from: "gateway", data: new Uint8Array([0, 0x81, 0, 1, 0, 0, 0, 9]) }];
    }
    if (req.length === 2) {
      return [{
        from: "gateway",
        data: new Uint8Array([0, 128, 0, 0, 0, 0, 0, 9, 198, 51, 100, 10]),
      }];
    }
    const answer = new Uint8Array(16);
    const v = new DataView(answer.buffer);
    answer[1] = 129;
    v.setUint16(8, new DataView(req.buffer, req.byteOffset).getUint16(4));
    v.setUint16(10, 40002);
    v.setUint32(12, 60);
    return [{ from: "gateway", data: answer }];
  });
  const r = recorder();
  const mapper = new PortMapper({
    internalPort: 4433,
    gateway: GATEWAY,
    localAddress: GATEWAY,
    protocols: ["pcp", "nat-pmp"],
    io: { gatewayPort: gw.port },
    onEvent: r.onEvent,
  });
  try {
    const started = Date.now();
    const m = await mapper.start();
    ok(Date.now() - started < 500, "no wait for the PCP deadline");
    equal(m?.protocol, "nat-pmp");
    equal(m?.external.port, 40002);
    equal(r.lines("ignored").length, 0);
  } finally {
    await mapper.close();
    gw.close();
  }
});
