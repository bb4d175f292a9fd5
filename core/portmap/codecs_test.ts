// The sans-IO codecs: good answers decode, every strict check refuses what it should.
import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { GatewayRefusal, PortMapError } from "./errors.ts";
import {
  externalAddressOf,
  findWanService,
  IGD_MAX_DESCRIPTION,
  parseSoapAnswer,
  soapAddPortMapping,
  SoapFault,
} from "./igd.ts";
import { externalAddressKind } from "./ipv4.ts";
import { decodeNatPmpAddress, decodeNatPmpMap, encodeNatPmpMap } from "./natpmp.ts";
import { decodePcpMap, encodePcpMap, isNatPmpVersionRefusal, type PcpMapRequest } from "./pcp.ts";
import { parseSsdpAnswer, SSDP_MAX_ANSWER } from "./ssdp.ts";
import { guessGateway, localAddressFor, parseIpRouteDefault } from "./gateway.ts";
import { parseHttpAnswer } from "./http_request.ts";

const REQUEST: PcpMapRequest = {
  nonce: new Uint8Array(12).map((_, i) => i + 1),
  clientAddress: "10.0.1.2",
  internalPort: 4433,
  suggestedExternalPort: 4433,
  suggestedExternalAddress: "0.0.0.0",
  lifetimeSeconds: 7200,
};

// A MAP answer as a PCP server builds it from the request.
function pcpAnswer(
  request: Uint8Array,
  edit: { result?: number; lifetime?: number; port?: number; address?: number[] } = {},
): Uint8Array {
  const a = new Uint8Array(60);
  const v = new DataView(a.buffer);
  a[0] = 2;
  a[1] = 0x81;
  a[3] = edit.result ?? 0;
  v.setUint32(4, edit.lifetime ?? 120);
  v.setUint32(8, 1000);
  a.set(request.subarray(24, 60), 24);
  v.setUint16(42, edit.port ?? 40000);
  a.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...(edit.address ?? [198, 51, 100, 10])], 44);
  return a;
}

Deno.test("PCP: request layout and a good answer", () => {
  const req = encodePcpMap(REQUEST);
  equal(req.length, 60);
  deepStrictEqual([req[0], req[1]], [2, 1]);
  deepStrictEqual(Array.from(req.subarray(18, 24)), [0xff, 0xff, 10, 0, 1, 2]);
  equal(req[36], 17);
  deepStrictEqual(decodePcpMap(pcpAnswer(req), REQUEST), {
    lifetimeSeconds: 120,
    epochSeconds: 1000,
    externalAddress: "198.51.100.10",
    externalPort: 40000,
  });
  // Options after the body are allowed (multiple of 4).
  const withOption = new Uint8Array(64);
  withOption.set(pcpAnswer(req));
  equal(decodePcpMap(withOption, REQUEST).externalPort, 40000);
});

Deno.test("PCP: strict checks", () => {
  const req = encodePcpMap(REQUEST);
  const good = pcpAnswer(req);
  const cases: [string, Uint8Array][] = [
    ["short", good.subarray(0, 56)],
    ["not a multiple of 4", new Uint8Array([...good, 0])],
    ["too long", new Uint8Array(1104)],
    ["version", Object.assign(good.slice(), { 0: 1 })],
    ["opcode", Object.assign(good.slice(), { 1: 0x82 })],
    ["request bit", Object.assign(good.slice(), { 1: 0x01 })],
    ["nonce", Object.assign(good.slice(), { 30: 99 })],
    ["protocol", Object.assign(good.slice(), { 36: 6 })],
    ["internal port", Object.assign(good.slice(), { 41: 0 })],
    ["lifetime 0", pcpAnswer(req, { lifetime: 0 })],
    ["external port 0", pcpAnswer(req, { port: 0 })],
    ["not IPv4-mapped", Object.assign(good.slice(), { 54: 0 })],
  ];
  for (const [name, datagram] of cases) {
    throws(
      () => decodePcpMap(datagram, REQUEST),
      (e) => e instanceof PortMapError && !(e instanceof GatewayRefusal),
      name,
    );
  }
  throws(() => decodePcpMap(pcpAnswer(req, { result: 2 }), REQUEST), /NOT_AUTHORIZED/);
  throws(() => decodePcpMap(pcpAnswer(req, { result: 2 }), REQUEST), GatewayRefusal);
  ok(isNatPmpVersionRefusal(new Uint8Array([0, 0x81, 0, 1, 0, 0, 0, 0])));
  ok(!isNatPmpVersionRefusal(good));
  throws(() => encodePcpMap({ ...REQUEST, nonce: new Uint8Array(11) }), PortMapError);
  throws(() => encodePcpMap({ ...REQUEST, internalPort: 70000 }), PortMapError);
});

function natPmpMapAnswer(
  edit: { result?: number; size?: number; port?: number; lifetime?: number } = {},
) {
  const a = new Uint8Array(edit.size ?? 16);
  const v = new DataView(a.buffer);
  a[1] = 129;
  v.setUint16(2, edit.result ?? 0);
  if (a.length >= 16) {
    v.setUint16(8, edit.port ?? 4433);
    v.setUint16(10, 40001);
    v.setUint32(12, edit.lifetime ?? 60);
  }
  return a;
}

Deno.test("NAT-PMP: requests, answers and checks", () => {
  deepStrictEqual(Array.from(encodeNatPmpMap(4433, 4433, 60)), [
    0,
    1,
    0,
    0,
    17,
    81,
    17,
    81,
    0,
    0,
    0,
    60,
  ]);
  deepStrictEqual(decodeNatPmpMap(natPmpMapAnswer(), 4433, 60), {
    epochSeconds: 0,
    internalPort: 4433,
    externalPort: 40001,
    lifetimeSeconds: 60,
  });
  equal(
    decodeNatPmpAddress(new Uint8Array([0, 128, 0, 0, 0, 0, 0, 1, 198, 51, 100, 10]))
      .externalAddress,
    "198.51.100.10",
  );
  throws(() => decodeNatPmpMap(natPmpMapAnswer({ port: 1 }), 4433, 60), /internal port 1/);
  throws(() => decodeNatPmpMap(natPmpMapAnswer({ size: 12 }), 4433, 60), /12 bytes/);
  throws(() => decodeNatPmpMap(natPmpMapAnswer({ lifetime: 0 }), 4433, 60), /lifetime of 0/);
  throws(() => decodeNatPmpMap(natPmpMapAnswer({ result: 2 }), 4433, 60), GatewayRefusal);
  throws(
    () => decodeNatPmpMap(natPmpMapAnswer({ result: 3, size: 8 }), 4433, 60),
    /network failure/,
  );
  throws(
    () => decodeNatPmpAddress(new Uint8Array([0, 129, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4])),
    /opcode/,
  );
  throws(
    () => decodeNatPmpAddress(new Uint8Array([1, 128, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4])),
    /version/,
  );
});

const NET = { gateway: "10.0.1.1", localAddress: "10.0.1.2", prefixLength: 24 };
const ssdp = (location: string, st = "urn:schemas-upnp-org:device:InternetGatewayDevice:1") =>
  new TextEncoder().encode(`HTTP/1.1 200 OK\r\nST: ${st}\r\nLOCATION: ${location}\r\nEXT:\r\n\r\n`);

Deno.test("SSDP: LOCATION must be plain http to the gateway", () => {
  equal(parseSsdpAnswer(ssdp("http://10.0.1.1:5000/rootDesc.xml"), NET).location.port, "5000");
  throws(() => parseSsdpAnswer(ssdp("https://10.0.1.1/x"), NET), /plain http/);
  throws(() => parseSsdpAnswer(ssdp("http://10.0.1.7:5000/x"), NET), /not the gateway/);
  throws(() => parseSsdpAnswer(ssdp("http://evil.example/x"), NET), /not an IPv4/);
  throws(() => parseSsdpAnswer(ssdp("http://u:p@10.0.1.1/x"), NET), /plain http/);
  throws(() => parseSsdpAnswer(ssdp("http://10.0.1.1/x", "upnp:rootdevice"), NET), /not an IGD/);
  throws(() => parseSsdpAnswer(new Uint8Array(SSDP_MAX_ANSWER + 1), NET), /limit/);
  // Without a known gateway, any address of the local subnet is accepted.
  const subnet = { localAddress: "10.0.1.2", prefixLength: 24 };
  equal(parseSsdpAnswer(ssdp("http://10.0.1.9:80/d.xml"), subnet).location.hostname, "10.0.1.9");
  throws(
    () => parseSsdpAnswer(ssdp("http://10.0.2.9:80/d.xml"), subnet),
    /not the gateway's network/,
  );
});

const DESCRIPTION = `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
<controlURL>/ctl/L3F</controlURL></service></serviceList><deviceList><device><deviceList><device>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><controlURL>/ctl/IPConn</controlURL>
</service></serviceList></device></deviceList></device></deviceList></device></root>`;

Deno.test("IGD: the WAN service and its control URL stay on the gateway", () => {
  const location = new URL("http://10.0.1.1:5000/rootDesc.xml");
  const found = findWanService(DESCRIPTION, location);
  equal(found.serviceType, "urn:schemas-upnp-org:service:WANIPConnection:1");
  equal(found.controlUrl.href, "http://10.0.1.1:5000/ctl/IPConn");
  throws(
    () => findWanService(DESCRIPTION.replace("/ctl/IPConn", "http://10.0.1.9/ctl"), location),
    /leaves the gateway/,
  );
  throws(
    () => findWanService(DESCRIPTION.replace("/ctl/IPConn", "//203.0.113.9/ctl"), location),
    /leaves the gateway/,
  );
  throws(
    () => findWanService(DESCRIPTION.replace("WANIPConnection", "WANFooConnection"), location),
    /no WANIPConnection/,
  );
  throws(() => findWanService("x".repeat(IGD_MAX_DESCRIPTION + 1), location), /limit/);
});

Deno.test("SOAP: envelopes, answers and faults", () => {
  const add = soapAddPortMapping("urn:schemas-upnp-org:service:WANIPConnection:1", {
    externalPort: 4433,
    internalPort: 4433,
    internalClient: "10.0.1.2",
    description: "a<b",
    leaseSeconds: 60,
  });
  equal(add.soapAction, '"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"');
  ok(add.body.includes("<NewPortMappingDescription>a&lt;b</NewPortMappingDescription>"));
  ok(add.body.includes("<NewProtocol>UDP</NewProtocol>"));
  const answer = parseSoapAnswer(
    200,
    '<s:Envelope><s:Body><u:GetExternalIPAddressResponse xmlns:u="x"><NewExternalIPAddress>198.51.100.10</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>',
    "GetExternalIPAddress",
  );
  equal(externalAddressOf(answer), "198.51.100.10");
  const fault =
    "<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>";
  throws(
    () => parseSoapAnswer(500, fault, "AddPortMapping"),
    (e) => e instanceof SoapFault && e.code === 718,
  );
  throws(() => parseSoapAnswer(200, "<x/>", "AddPortMapping"), /without AddPortMappingResponse/);
  throws(() => parseSoapAnswer(404, "", "AddPortMapping"), /HTTP 404/);
});

Deno.test("external addresses: TEST-NET-2 is usable, CGNAT is marked, private is refused", () => {
  equal(externalAddressKind("198.51.100.10"), "public");
  equal(externalAddressKind("8.8.8.8"), "public");
  equal(externalAddressKind("100.64.0.1"), "cgnat");
  equal(externalAddressKind("100.127.255.255"), "cgnat");
  for (
    const a of [
      "0.0.0.0",
      "10.1.2.3",
      "127.0.0.1",
      "169.254.1.1",
      "172.16.0.1",
      "192.168.1.1",
      "224.0.0.1",
      "255.255.255.255",
    ]
  ) {
    equal(externalAddressKind(a), "unusable", a);
  }
  throws(() => externalAddressKind("1.2.3"), PortMapError);
  throws(() => externalAddressKind("1.2.3.256"), PortMapError);
});

Deno.test("gateway: /proc/net/route, ip route, and the local address", () => {
  const nic = (address: string, netmask = "255.255.255.0") => ({
    family: "IPv4" as const,
    address,
    netmask,
  });
  // The first private network's first host; loopback, public and own addresses are skipped.
  deepStrictEqual(guessGateway([nic("127.0.0.1", "255.0.0.0"), nic("192.168.1.23")]), {
    address: "192.168.1.1",
    interfaceName: "",
  });
  deepStrictEqual(
    guessGateway([nic("203.0.113.5"), nic("10.0.2.2", "255.255.0.0")])?.address,
    "10.0.0.1",
  );
  equal(guessGateway([nic("192.168.1.1")]), undefined);
  equal(guessGateway([nic("203.0.113.5"), nic("10.0.0.2", "255.255.255.255")]), undefined);
  deepStrictEqual(parseIpRouteDefault("default via 10.0.1.1 dev eth0 proto dhcp\n"), {
    address: "10.0.1.1",
    interfaceName: "eth0",
  });
  equal(parseIpRouteDefault("10.0.1.0/24 dev eth0\n"), undefined);
  deepStrictEqual(
    localAddressFor("10.0.1.1", [
      { family: "IPv4", address: "127.0.0.1", netmask: "255.0.0.0" },
      { family: "IPv4", address: "10.0.1.2", netmask: "255.255.255.0" },
    ]),
    { address: "10.0.1.2", prefixLength: 24 },
  );
});

Deno.test("HTTP answers: length, chunked, bad heads", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  deepStrictEqual(parseHttpAnswer(enc("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabcd")), {
    status: 200,
    body: "ab",
  });
  deepStrictEqual(
    parseHttpAnswer(
      enc("HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"),
    ),
    { status: 500, body: "abc" },
  );
  throws(() => parseHttpAnswer(enc("HTTP/1.1 200 OK\r\n")), /complete head/);
  throws(() => parseHttpAnswer(enc("SSH-2.0\r\n\r\n")), /status line/);
  throws(
    () => parseHttpAnswer(enc("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")),
    /inside a chunk/,
  );
});

// Fuzz: random and mutated inputs never throw anything but PortMapError, and never hang.
function random(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function mutate(good: Uint8Array): Uint8Array {
  const out = good.slice(0, Math.floor(Math.random() * (good.length + 8)));
  const grown = new Uint8Array(Math.max(out.length, Math.floor(Math.random() * (good.length + 8))));
  grown.set(out);
  for (let i = 0; i < 1 + Math.floor(Math.random() * 4); i++) {
    if (grown.length) {
      grown[Math.floor(Math.random() * grown.length)] = Math.floor(Math.random() * 256);
    }
  }
  return grown;
}

function onlyOwnErrors(name: string, parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof PortMapError)) throw new Error(`${name} threw ${error}`);
  }
}

Deno.test("fuzz: every parser takes random and mutated input with its own error only", () => {
  const started = performance.now();
  const req = encodePcpMap(REQUEST);
  const goodPcp = pcpAnswer(req);
  const goodPmp = natPmpMapAnswer();
  const goodSsdp = ssdp("http://10.0.1.1:5000/rootDesc.xml");
  const location = new URL("http://10.0.1.1:5000/rootDesc.xml");
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  const goodDesc = new TextEncoder().encode(DESCRIPTION);
  const goodHttp = new TextEncoder().encode(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
  );
  for (let i = 0; i < 3000; i++) {
    const pick = i % 2 === 0;
    onlyOwnErrors(
      "decodePcpMap",
      () => decodePcpMap(pick ? mutate(goodPcp) : random(i % 1200), REQUEST),
    );
    onlyOwnErrors(
      "decodeNatPmpMap",
      () => decodeNatPmpMap(pick ? mutate(goodPmp) : random(i % 20), 4433, 60),
    );
    onlyOwnErrors("decodeNatPmpAddress", () => decodeNatPmpAddress(random(i % 16)));
    onlyOwnErrors(
      "parseSsdpAnswer",
      () => parseSsdpAnswer(pick ? mutate(goodSsdp) : random(i % 2100), NET),
    );
    onlyOwnErrors(
      "findWanService",
      () => findWanService(dec(pick ? mutate(goodDesc) : random(i % 700)), location),
    );
    onlyOwnErrors(
      "parseSoapAnswer",
      () => externalAddressOf(parseSoapAnswer(pick ? 200 : 500, dec(random(i % 300)), "X")),
    );
    onlyOwnErrors(
      "parseHttpAnswer",
      () => parseHttpAnswer(pick ? mutate(goodHttp) : random(i % 300)),
    );
    onlyOwnErrors("parseIpRouteDefault", () => parseIpRouteDefault(dec(random(i % 300))));
    onlyOwnErrors("externalAddressKind", () => externalAddressKind(dec(random(i % 16))));
  }
  ok(performance.now() - started < 10_000, "fuzz rounds took too long");
});

Deno.test("fuzz: worst-case shapes at the size limits stay fast", () => {
  const location = new URL("http://10.0.1.1:5000/rootDesc.xml");
  const shapes = [
    "<service>".repeat(IGD_MAX_DESCRIPTION / 9),
    "<".repeat(IGD_MAX_DESCRIPTION),
    "<a".repeat(IGD_MAX_DESCRIPTION / 2),
    "<serviceType " + "a".repeat(IGD_MAX_DESCRIPTION - 20),
    "<service><controlURL>" + "x".repeat(IGD_MAX_DESCRIPTION - 30),
  ];
  for (const shape of shapes) {
    const started = performance.now();
    onlyOwnErrors("findWanService", () => findWanService(shape, location));
    onlyOwnErrors("parseSoapAnswer", () => parseSoapAnswer(500, shape.slice(0, 16 * 1024), "X"));
    ok(
      performance.now() - started < 500,
      `${shape.slice(0, 20)}... took ${performance.now() - started} ms`,
    );
  }
  const chunks = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "1\r\na\r\n".repeat(10_000);
  onlyOwnErrors("parseHttpAnswer", () => parseHttpAnswer(new TextEncoder().encode(chunks)));
  throws(
    () =>
      parseHttpAnswer(
        new TextEncoder().encode(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nab\r\n",
        ),
      ),
    /chunk size/,
  );
});
