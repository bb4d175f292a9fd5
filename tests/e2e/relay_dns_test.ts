// `tunnel relay --dns-bind`: the records a server published to /pkarr answer
// `_iroh.<z32>.<origin>` TXT over UDP and TCP DNS, checked with `dig` (an
// independent resolver) and with our client's `--dns-server dns://`, and over
// HTTP on the relay's `/dns-query` (RFC 8484).
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
  decodeDnsPacket,
  decodeTxtData,
  DNS_CLASS_IN,
  DNS_TYPE_TXT,
  encodeDnsMessage,
  endpointIdToZ32,
} from "../../core/discovery/mod.ts";
import { EndpointId } from "../../core/identity/mod.ts";
import {
  runCli,
  startClient,
  startLocalRelay,
  startServer,
  startTcpEchoServer,
  transferPayload,
} from "../harness/mod.ts";

const ORIGIN = "dns.test";

async function startRelay() {
  const relay = await startLocalRelay(["--dns-bind", "127.0.0.1:0", "--dns-origin", ORIGIN]);
  const dnsLine = relay.proc.lines("stdout").find((line) => line.startsWith("DNS on udp and tcp "));
  assert.ok(dnsLine, relay.proc.lines("stdout").join("\n"));
  return { ...relay, dnsPort: Number(/127\.0\.0\.1:(\d+)/.exec(dnsLine)![1]) };
}

/** `dig` against the relay: its status line and the TXT strings answered. */
async function dig(port: number, name: string, ...options: string[]) {
  const { code, stdout, stderr } = await new Deno.Command("dig", {
    args: [`@127.0.0.1`, "-p", String(port), "+time=3", "+tries=1", ...options, name, "TXT"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, text + new TextDecoder().decode(stderr));
  const status = /status: (\w+)/.exec(text)?.[1];
  const flags = /;; flags: ([a-z ]+);/.exec(text)?.[1].split(" ") ?? [];
  const txt = [...text.matchAll(/\tIN\s+TXT\s+"([^"]*)"/g)].map((m) => m[1]);
  const ttls = [...text.matchAll(/\t(\d+)\tIN\s+TXT\s/g)].map((m) => Number(m[1]));
  return { status, flags, txt, ttls, text };
}

Deno.test("tunnel relay --dns-bind: dig reads a published record over UDP and TCP; the client resolves with dns://", async () => {
  const relay = await startRelay();
  await using _relay = relay.proc;
  const pkarr = `${relay.url.replace(/\/$/, "")}/pkarr`;
  const token = generateToken();
  await using echo = startTcpEchoServer();
  await using server = await startServer({
    authTokens: token,
    bind: "127.0.0.1:0",
    extraArgs: ["--relay-url", relay.url, "--dns-server", pkarr],
  });
  assert.ok(server.lines().includes(`Discovery: published to ${pkarr}`), server.lines().join("\n"));
  const z32 = endpointIdToZ32(EndpointId.parse(server.endpointId));
  const name = `_iroh.${z32}.${ORIGIN}`;

  for (const transport of ["+notcp", "+tcp"]) {
    const answer = await dig(relay.dnsPort, name, transport);
    assert.equal(answer.status, "NOERROR", answer.text);
    assert.ok(answer.flags.includes("aa"), answer.text);
    assert.ok(answer.txt.includes(`relay=${relay.url}`), answer.text);
    assert.ok(answer.txt.some((t) => t.startsWith("addr=127.0.0.1:")), answer.text);
    assert.ok(answer.ttls.every((ttl) => ttl === 30), answer.text);
  }
  // Case does not matter (resolvers randomize it); no record is NXDOMAIN; another zone REFUSED.
  assert.equal((await dig(relay.dnsPort, name.toUpperCase())).txt.length, 2);
  const nobody = `_iroh.${"y".repeat(52)}.${ORIGIN}`;
  assert.equal((await dig(relay.dnsPort, nobody)).status, "NXDOMAIN");
  assert.equal((await dig(relay.dnsPort, `_iroh.${z32}.example.org`)).status, "REFUSED");
  // Without EDNS0, a 512-byte UDP answer: still fits, as iroh's records are small.
  assert.equal((await dig(relay.dnsPort, name, "+noedns")).status, "NOERROR");
  // DNS over HTTP on the relay's listener (RFC 8484 GET and POST). dig's DoH
  // speaks HTTP/2 only, which the relay's listener does not: fetch asks here.
  const query = encodeDnsMessage({
    id: 0,
    flags: 0x0100,
    questions: [{ name, type: DNS_TYPE_TXT, class: DNS_CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  }, 512);
  const dohUrl = new URL("/dns-query", relay.url);
  const encoded = btoa(String.fromCharCode(...query)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
  for (
    const response of [
      await fetch(`${dohUrl}?dns=${encoded}`),
      await fetch(dohUrl, {
        method: "POST",
        body: query,
        headers: { "content-type": "application/dns-message" },
      }),
    ]
  ) {
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/dns-message");
    const answers = decodeDnsPacket(new Uint8Array(await response.arrayBuffer())).answers;
    assert.ok(answers.some((a) => decodeTxtData(a.data).join("") === `relay=${relay.url}`));
  }

  await using client = await startClient({
    serverNodeId: server.endpointId,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
    extraArgs: ["--dns-server", `dns://127.0.0.1:${relay.dnsPort}/${ORIGIN}`],
  });
  const { sent, received } = await transferPayload(client.localPort, 1 << 20);
  assert.equal(received.sha256, sent.sha256);

  // Nobody published this key: the pkarr lookup's wording, naming the DNS server.
  const dnsUrl = `dns://127.0.0.1:${relay.dnsPort}/${ORIGIN}`;
  const unknown = await runCli([
    "client",
    "--no-reconnect",
    "--server-node-id",
    "a".repeat(52),
    "--dns-server",
    dnsUrl,
    "--source",
    `tcp://127.0.0.1:${echo.port}`,
    "--target",
    "127.0.0.1:0",
    "--auth-token",
    token,
  ]);
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    new RegExp(`No discovery record for a{52} at ${dnsUrl.replace(/[.]/g, "\\.")}`),
  );
});

Deno.test("--dns-server dns:// and --dns-bind: bad values get one line and the usage exit code", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["relay", "--bind", "127.0.0.1:0", "--no-stun", "--dns-bind", "127.0.0.1:0"],
      /Use --dns-bind and --dns-origin together/,
    ],
    [
      ["relay", "--no-stun", "--dns-bind", "127.0.0.1:0", "--dns-origin", "a b"],
      /Invalid DNS origin 'a b'/,
    ],
    [
      ["relay", "--no-stun", "--dns-bind", "nonsense", "--dns-origin", "x.test"],
      /--dns-bind address/,
    ],
    [
      [
        "client",
        "--server-node-id",
        "a".repeat(52),
        "--dns-server",
        "dns://127.0.0.1:5300",
        "--source",
        "tcp://127.0.0.1:1",
        "--auth-token",
        generateToken(),
      ],
      /Invalid --dns-server 'dns:\/\/127\.0\.0\.1:5300': name the zone/,
    ],
    [
      ["server", "--dns-server", "dns://127.0.0.1:5300/x.test", "--auth-tokens", generateToken()],
      /Cannot publish to dns:\/\/127\.0\.0\.1:5300\/x\.test: a server publishes to a pkarr relay/,
    ],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});

Deno.test("tunnel relay --dns-bind on a port in use: one line naming it, exit 1", async () => {
  const taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const { code, stderr } = await runCli([
      "relay",
      "--bind",
      "127.0.0.1:0",
      "--no-stun",
      "--dns-bind",
      `127.0.0.1:${port}`,
      "--dns-origin",
      ORIGIN,
    ]);
    assert.equal(code, 1, stderr);
    assert.match(
      stderr,
      new RegExp(`Cannot listen for DNS on 127\\.0\\.0\\.1:${port}: address already in use`),
    );
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  } finally {
    taken.close();
  }
});
