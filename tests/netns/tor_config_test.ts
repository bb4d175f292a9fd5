/**
 * The private Tor network's torrc texts and log parsing, without running tor: every address
 * is the namespace's loopback, only our own authorities are named, and the fallback list,
 * bridges and every IP SOCKS port are off.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import {
  type AuthorityIdentity,
  authorityTorrc,
  bootstrapPercent,
  clientTorrc,
  FAST_VOTING,
  lastProblem,
  onionServiceTorrc,
  probePortFor,
  relayTorrc,
  uploadedDescriptors,
} from "./tor_config.ts";
import { certificateFingerprint, listedFingerprint } from "./tor_keys.ts";

const AUTHORITIES: AuthorityIdentity[] = [0, 1, 2].map((i) => ({
  nickname: `auth${i}`,
  orPort: 5000 + i,
  dirPort: 7000 + i,
  v3Ident: String(i).repeat(40),
  fingerprint: "ABCDEF0123456789ABCDEF0123456789ABCDEF0" + i,
}));

const TORRCS = {
  authority: authorityTorrc(AUTHORITIES[1], "/d/auth1", AUTHORITIES),
  relay: relayTorrc("relay0", 5100, "/d/relay0", AUTHORITIES),
  service: onionServiceTorrc("service0", "/d/hs0", AUTHORITIES, {
    serviceDir: "/d/hs0/service",
    virtualPort: 80,
    targetSocket: "/d/hs0.target.sock",
    probePort: 1,
    probeSocket: "/d/hs0.probe.sock",
  }),
  client: clientTorrc("client0", "/d/client0", AUTHORITIES, "/d/client0.socks.sock"),
};

Deno.test("every torrc names only our authorities, on loopback, and no fallbacks", () => {
  for (const [role, torrc] of Object.entries(TORRCS)) {
    const lines = torrc.split("\n");
    assert(lines.includes("TestingTorNetwork 1"), role);
    assert(lines.includes("UseDefaultFallbackDirs 0"), role);
    assert(lines.includes("UseBridges 0"), role);
    const authorities = lines.filter((l) => l.startsWith("DirAuthority "));
    assertEquals(authorities.length, 3, role);
    assert(
      authorities.every((l) => / 127\.0\.0\.1:700[0-2] [0-9A-F]{40}$/.test(l)),
      `${role}: ${authorities.join("; ")}`,
    );
    // Every IPv4 address anywhere in the text is the loopback.
    for (const ip of torrc.match(/\b\d{1,3}(\.\d{1,3}){3}\b/g) ?? []) {
      assertEquals(ip, "127.0.0.1", `${role} names ${ip}`);
    }
    assert(!/^(FallbackDir|Bridge|AlternateDirAuthority) /m.test(torrc), role);
    // No SOCKS listener on an IP port: only the client's Unix socket.
    const socks = lines.filter((l) => l.startsWith("SocksPort "));
    assertEquals(socks, [
      role === "client" ? "SocksPort unix:/d/client0.socks.sock ExtendedErrors" : "SocksPort 0",
    ]);
  }
});

Deno.test("exits reach only the loopback; the authorities vote fast", () => {
  const exitPolicy = TORRCS.relay.split("\n").filter((l) => l.startsWith("ExitPolicy "));
  assertEquals(exitPolicy, [
    "ExitPolicy accept 127.0.0.1/8:*",
    "ExitPolicy reject *:*",
    "ExitPolicy reject6 *:*",
  ]);
  assert(TORRCS.authority.includes(`V3AuthVotingInterval ${FAST_VOTING.interval}\n`));
  // Tor's own rule, checked here so that a faster schedule fails before any tor starts.
  assert(2 * FAST_VOTING.delay < FAST_VOTING.interval / 2);
  assert(!TORRCS.relay.includes("AuthoritativeDirectory"));
  assert(TORRCS.service.includes("HiddenServicePort 80 unix:/d/hs0.target.sock\n"));
  assert(TORRCS.service.includes("HiddenServicePort 1 unix:/d/hs0.probe.sock\n"));
});

Deno.test("clients drop a stale rendezvous circuit after 10 s", () => {
  assert(TORRCS.client.split("\n").includes("MaxCircuitDirtiness 10"));
  assert(!TORRCS.relay.includes("MaxCircuitDirtiness"));
});

Deno.test("the probe port never equals the caller's onion port", () => {
  for (const port of [1, 2, 80, 65535]) assert(probePortFor(port) !== port);
});

Deno.test("bootstrap progress and problems are read from a notice log", () => {
  const log = [
    "Dec 06 20:21:49.000 [notice] Bootstrapped 0% (starting): Starting",
    "Dec 06 20:21:50.000 [warn] Problem bootstrapping. Stuck at 5% (conn)",
    "Dec 06 20:21:51.000 [notice] Bootstrapped 85% (ap_conn_done): Connected",
    "Dec 06 20:21:52.000 [notice] Bootstrapped 100% (done): Done",
  ].join("\n");
  assertEquals(bootstrapPercent(""), 0);
  assertEquals(bootstrapPercent(log), 100);
  assertEquals(bootstrapPercent(log.split("\n").slice(0, 3).join("\n")), 85);
  assertEquals(lastProblem(log), "Problem bootstrapping. Stuck at 5% (conn)");
  assertEquals(lastProblem("[notice] fine"), undefined);
});

Deno.test("key fingerprints are parsed from tor-gencert's and tor's output", () => {
  assertEquals(
    certificateFingerprint("dir-key-certificate-version 3\nfingerprint " + "A1".repeat(20)),
    "A1".repeat(20),
  );
  throws(() => certificateFingerprint("dir-key-certificate-version 3\n"), /without a fingerprint/);
  assertEquals(
    listedFingerprint("auth0 0B25 1E9E 1B12 CB92 E8E6 229A 4CD3 5FAD 22F8 16B1\n", "auth0"),
    "0B251E9E1B12CB92E8E6229A4CD35FAD22F816B1",
  );
  throws(() => listedFingerprint("[warn] nothing\n", "auth0"), /no fingerprint for auth0/);
});

Deno.test("stored descriptor uploads are counted from a service's info log", () => {
  const stored = "[info] handle_response_upload_hsdesc(): Uploaded hidden service descriptor " +
    '(status 200 ("HS descriptor stored successfully."))';
  const refused = "[info] handle_response_upload_hsdesc(): Uploaded hidden service descriptor " +
    '(status 400 ("Invalid descriptor"))';
  assertEquals(uploadedDescriptors(""), 0);
  assertEquals(uploadedDescriptors([stored, refused, stored].join("\n")), 2);
});
