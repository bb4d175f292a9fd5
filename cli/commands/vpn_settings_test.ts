// VPN mode's settings, client and server, resolved without a device or a socket.
import assert from "node:assert/strict";
import { ClientKey, clientKeyFileText, generateToken } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { UsageError } from "../usage_error.ts";
import { DEFAULT_VPN_MTU, DEFAULT_VPN_NETWORK } from "../settings/vpn_options.ts";
import { resolveVpnClientSettings } from "./vpn_client_run.ts";
import { resolveVpnServerSettings } from "./vpn_server_run.ts";

async function rejectsAsUsage(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(
    promise,
    (error: Error) => error instanceof UsageError && message.test(error.message),
  );
}

const serverId = SecretKey.generate().endpointId.toString();
const token = generateToken();

Deno.test("resolveVpnClientSettings(): routes, MTU and the ways to the server", async () => {
  const settings = await resolveVpnClientSettings(
    {
      serverNodeId: serverId,
      serverAddr: ["192.0.2.7:4433"],
      authToken: token,
      route: ["10.20.0.0/16"],
      noDns: true,
      relay: false,
    } as Parameters<typeof resolveVpnClientSettings>[0],
  );
  assert.equal(settings.serverId.toString(), serverId);
  assert.deepEqual(settings.serverAddrs, [{ hostname: "192.0.2.7", port: 4433 }]);
  assert.deepEqual(settings.routes.map((r) => r.text), ["10.20.0.0/16"]);
  assert.equal(settings.mtu, DEFAULT_VPN_MTU);
  assert.equal(settings.credential, token);
});

Deno.test("resolveVpnClientSettings() names what is missing or wrong", async () => {
  await rejectsAsUsage(resolveVpnClientSettings({ authToken: token }), /--server-node-id/);
  await rejectsAsUsage(
    resolveVpnClientSettings({
      serverNodeId: serverId,
      serverAddr: ["192.0.2.7:4433"],
      authToken: token,
      route: ["2001:db8::/32"],
    }),
    /VPN routes are IPv4 networks/,
  );
  await rejectsAsUsage(
    resolveVpnClientSettings(
      {
        serverNodeId: serverId,
        serverAddr: ["192.0.2.7:4433"],
        relayOnly: true,
        authToken: token,
      } as Parameters<typeof resolveVpnClientSettings>[0],
    ),
    /--relay-only dials no direct address/,
  );
});

Deno.test("resolveVpnServerSettings(): the default network, and a network or server IP that cannot be", async () => {
  const settings = await resolveVpnServerSettings({ authTokens: [token] });
  assert.equal(settings.pool.network.text, DEFAULT_VPN_NETWORK);
  assert.equal(settings.masquerade, undefined);
  await rejectsAsUsage(
    resolveVpnServerSettings({ authTokens: [token], network: "10.0.0.0/33" }),
    /Invalid --network '10.0.0.0\/33'/,
  );
  await rejectsAsUsage(
    resolveVpnServerSettings({ authTokens: [token], network: "10.0.0.0/24", serverIp: "10.0.1.1" }),
    /Invalid --server-ip 10.0.1.1/,
  );
  await rejectsAsUsage(
    resolveVpnServerSettings({ authTokens: [token], masquerade: "eth0; rm" }),
    /not an interface name/,
  );
});

Deno.test("VPN mode takes client keys as iroh mode does: --client-key and --authorized-keys", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = ClientKey.generate();
    await Deno.writeTextFile(`${dir}/client.key`, clientKeyFileText(key));
    await Deno.writeTextFile(`${dir}/authorized_keys`, `${key.publicKey} vpn-laptop\n`);
    const client = await resolveVpnClientSettings({
      serverNodeId: serverId,
      serverAddr: ["192.0.2.7:4433"],
      clientKey: `${dir}/client.key`,
    });
    assert.ok(client.credential instanceof ClientKey);
    assert.equal(client.credential.secretText(), key.secretText());
    const server = await resolveVpnServerSettings({ authorizedKeys: `${dir}/authorized_keys` });
    assert.equal(server.tokens.size, 0);
    assert.equal(server.authorizedKeys?.keys.find(key.publicKey.bytes)?.comment, "vpn-laptop");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
