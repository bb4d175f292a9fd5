// `tunnel vpn` on bad input and without its permissions: one line, the right
// exit status, before any device exists. (Devices and sessions: tests/netns/vpn_test.ts.)
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
  FORWARDING_PERMISSION_FLAGS,
  PROJECT_CONFIG,
  runCli,
  runCommand,
  TUNNEL_MAIN,
} from "../harness/mod.ts";

const ID = "2xnbkpbc7izsilvewd7c62w7wnwziacmpfwvhcrya5nt76dqkpga";
const TOKEN = generateToken();
const server = (...args: string[]) =>
  runCli(["vpn", "server", "--auth-tokens", TOKEN, "--no-relay", "--no-dns", ...args]);
const client = (...args: string[]) =>
  runCli([
    "vpn",
    "client",
    "--server-addr",
    "127.0.0.1:9",
    "--auth-token",
    TOKEN,
    "--no-relay",
    "--no-dns",
    ...args,
  ]);

function oneLine(result: { code: number; stderr: string }, code: number, pattern: RegExp) {
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], pattern);
  assert.equal(result.code, code, result.stderr);
}

Deno.test("tunnel vpn server names a network it cannot use", async () => {
  oneLine(await server("--network", "10.0.0.0/31"), 2, /too small for a server and a client/);
  oneLine(await server("--network", "fd00::/64"), 2, /only IPv4 networks/);
  oneLine(await server("--network", "10.0.0.1/24"), 2, /Invalid --network '10\.0\.0\.1\/24'/);
  oneLine(
    await server("--server-ip", "10.0.1.1"),
    2,
    /Invalid --server-ip 10\.0\.1\.1: not a host address of 10\.0\.0\.0\/24/,
  );
  oneLine(await server("--mtu", "100"), 2, /Invalid --mtu '100': must be a whole number from 576/);
  oneLine(await server("--masquerade", "eth0; rm"), 2, /Invalid --masquerade interface/);
});

Deno.test("tunnel vpn client names what is missing or malformed", async () => {
  oneLine(await client(), 2, /Missing --server-node-id/);
  oneLine(
    await client("-n", ID, "--route", "fd00::/8"),
    2,
    /Invalid --route 'fd00::\/8': VPN routes are IPv4/,
  );
  oneLine(await client("-n", ID, "--route", "192.168.1.1/24"), 2, /Invalid CIDR/);
  oneLine(await client("-n", ID, "--keepalive-secs", "soon"), 2, /Invalid --keepalive-secs 'soon'/);
  oneLine(await client("-n", "nope"), 2, /Invalid EndpointId 'nope'/);
});

Deno.test("tunnel vpn says which Deno permission it lacks, before touching anything", async () => {
  // Port forwarding's permissions: no --allow-ffi.
  const result = await runCommand(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--config",
      PROJECT_CONFIG,
      ...FORWARDING_PERMISSION_FLAGS,
      TUNNEL_MAIN,
      "vpn",
      "server",
      "--auth-tokens",
      TOKEN,
      "--no-relay",
      "--no-dns",
    ],
    timeoutMs: 20_000,
  });
  oneLine(
    result,
    1,
    /VPN mode needs Deno's FFI permission for its TUN device: run with --allow-ffi/,
  );
});
