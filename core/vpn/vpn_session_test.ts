// Whole VPN sessions in memory: the tunnel session's auth and request, the
// ip service's lease and key exchange, and real WireGuard between a MemoryTun
// on each side, over a memory connection pair.
import assert from "node:assert/strict";
import { Cidr } from "../net/mod.ts";
import { memoryConnectionPair } from "../transport/mod.ts";
import {
  openClientSession,
  serveConnection,
  SessionLimiter,
  SessionRefusedError,
  silentLog,
} from "../tunnel/mod.ts";
import { AddressPool } from "./address_pool.ts";
import { markOf, packet, TOKEN } from "./_test_packets.ts";
import { IpRouter } from "./ip_router.ts";
import { ipService, vpnRequest } from "./ip_service.ts";
import { MemoryTun } from "./device/mod.ts";
import { startWireGuard } from "./start_wireguard.ts";
import { startVpnClientLink } from "./vpn_client_session.ts";

const instance = (n: number) => n.toString(16).padStart(32, "0");

function vpnServer(network = "10.0.0.0/24") {
  const tun = new MemoryTun("srv0", 1420);
  const pool = new AddressPool(Cidr.parse(network));
  const router = new IpRouter(tun);
  const routing = router.run();
  const services = { ip: ipService({ pool, router, mtu: 1420, startWireGuard }) };
  const sessions = new SessionLimiter(8);
  const serve = () => {
    const [client, server] = memoryConnectionPair();
    const served = serveConnection(server, {
      authenticate: (credential) => credential.every((b, i) => b === TOKEN[i]),
      services,
      sessions,
      log: silentLog,
      label: "test",
    });
    return { client, served };
  };
  return { tun, pool, router, serve, stop: () => tun.close().then(() => routing) };
}

async function vpnClient(server: ReturnType<typeof vpnServer>, id: number) {
  const { client, served } = server.serve();
  const session = await openClientSession(client, TOKEN, vpnRequest(instance(id)));
  const tun = new MemoryTun("cli0", 1420);
  const router = new IpRouter(tun);
  const link = await startVpnClientLink(session, {
    startWireGuard,
    onPackets: (packets) => router.fromPeer(packets),
  });
  router.setDefault(link.tunnel);
  const routing = router.run();
  return {
    tun,
    link,
    served,
    async close() {
      link.close();
      client.close();
      await tun.close();
      await routing;
      await served;
    },
  };
}

Deno.test("a VPN session carries packets both ways through WireGuard", async () => {
  const server = vpnServer();
  const client = await vpnClient(server, 1);
  const { config } = client.link;
  assert.deepEqual([...config.clientAddress], [10, 0, 0, 2]);
  assert.deepEqual([...config.serverAddress], [10, 0, 0, 1]);
  assert.equal(config.prefixLength, 24);

  client.tun.inject([
    packet([10, 0, 0, 2], [10, 0, 0, 1], 1),
    packet([10, 0, 0, 2], [10, 0, 0, 1], 2),
  ]);
  await server.tun.waitForWritten(2);
  assert.deepEqual(server.tun.written.map(markOf), [1, 2]);
  server.tun.inject([packet([10, 0, 0, 1], [10, 0, 0, 2], 3)]);
  await client.tun.waitForWritten(1);
  assert.deepEqual(client.tun.written.map(markOf), [3]);

  // A client may not use another address: WireGuard decrypts it, the router drops it.
  client.tun.inject([
    packet([10, 0, 0, 9], [10, 0, 0, 1], 4),
    packet([10, 0, 0, 2], [10, 0, 0, 1], 5),
  ]);
  await server.tun.waitForWritten(3);
  assert.deepEqual(server.tun.written.map(markOf), [1, 2, 5]);
  assert.equal(server.router.drops.spoofed, 1);

  await client.close();
  assert.equal(server.pool.size, 0, "the address is free again");
  await server.stop();
});

Deno.test("a VPN server gives two clients different addresses; the host forwards between them", async () => {
  const server = vpnServer();
  const a = await vpnClient(server, 1);
  const b = await vpnClient(server, 2);
  assert.deepEqual([...b.link.config.clientAddress], [10, 0, 0, 3]);
  a.tun.inject([packet([10, 0, 0, 2], [10, 0, 0, 3], 7)]);
  // Client to client goes to the server's device, where the host's firewall sees it.
  await server.tun.waitForWritten(1);
  assert.deepEqual(server.tun.written.map(markOf), [7]);
  assert.equal(b.tun.written.length, 0, "nothing reached B around the host");
  // The host forwards it back into the device (as a kernel with forwarding on does): B gets it.
  server.tun.inject(server.tun.written);
  await b.tun.waitForWritten(1);
  assert.deepEqual(b.tun.written.map(markOf), [7]);
  await a.close();
  await b.close();
  await server.stop();
});

Deno.test("a VPN server with a pool of one refuses a second client, saying why", async () => {
  const server = vpnServer("10.9.0.0/30");
  const first = await vpnClient(server, 1);
  const { client, served } = server.serve();
  await assert.rejects(
    openClientSession(client, TOKEN, vpnRequest(instance(2))),
    (error) =>
      error instanceof SessionRefusedError &&
      /VPN address pool 10\.9\.0\.0\/30 is exhausted \(1 client address/.test(error.message),
  );
  await served;
  await first.close();
  await server.stop();
});

Deno.test("a reconnecting client instance takes its address back from its old session", async () => {
  const server = vpnServer();
  const old = await vpnClient(server, 5);
  const again = await vpnClient(server, 5);
  assert.deepEqual([...again.link.config.clientAddress], [10, 0, 0, 2]);
  await old.served; // the server closed the replaced session
  again.tun.inject([packet([10, 0, 0, 2], [10, 0, 0, 1], 9)]);
  await server.tun.waitForWritten(1);
  assert.deepEqual(server.tun.written.map(markOf), [9]);
  assert.equal(server.pool.size, 1, "the old session's end did not free the new one's address");
  await old.close();
  await again.close();
  await server.stop();
});

Deno.test("the ip service refuses a malformed request", async () => {
  const server = vpnServer();
  const { client, served } = server.serve();
  await assert.rejects(
    openClientSession(client, TOKEN, "ip://not-an-instance"),
    /malformed VPN request/,
  );
  await served;
  await server.stop();
});
