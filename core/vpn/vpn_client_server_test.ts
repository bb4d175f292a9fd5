// VpnClient and openVpnServer in memory: the devices are MemoryTuns, the
// sessions real tunnel sessions over memory connection pairs, WireGuard real.
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
import { MemoryTun, type OpenTunOptions } from "./device/mod.ts";
import type { HostForwarding, HostForwardingOptions } from "./host/mod.ts";
import { vpnRequest } from "./ip_service.ts";
import { VpnClient, type VpnClientEvent } from "./vpn_client.ts";
import { ForwardingSetupError, openVpnServer, type VpnServerEvent } from "./vpn_server.ts";

const INSTANCE = "ab".repeat(16);

/** Makes MemoryTuns and remembers what each was opened with. */
function memoryDevices(prefix: string) {
  const opened: { options: OpenTunOptions; tun: MemoryTun }[] = [];
  return {
    opened,
    open(options: OpenTunOptions): Promise<MemoryTun> {
      const tun = new MemoryTun(`${prefix}${opened.length}`, options.mtu);
      opened.push({ options, tun });
      return Promise.resolve(tun);
    },
  };
}

async function startServer(network = "10.0.0.0/24", mtu = 1420) {
  const devices = memoryDevices("srv");
  const events: VpnServerEvent[] = [];
  const server = await openVpnServer({
    pool: new AddressPool(Cidr.parse(network)),
    mtu,
    exhaustedAdvice: "ask for more",
    onEvent: (event) => events.push(event),
    openDevice: devices.open,
  });
  const services = { ip: server.service() };
  const sessions = new SessionLimiter(8);
  const connect = async () => {
    const [client, conn] = memoryConnectionPair();
    const served = serveConnection(conn, {
      authenticate: (credential) => credential.every((b, i) => b === TOKEN[i]),
      services,
      sessions,
      log: silentLog,
      label: "test",
    });
    const session = await openClientSession(client, TOKEN, vpnRequest(INSTANCE));
    return { session, served };
  };
  return { server, devices, events, connect };
}

Deno.test("VpnClient makes its device from the first session and routes both ways", async () => {
  const { server, devices: serverDevices, events: serverEvents, connect } = await startServer();
  assert.deepEqual(serverEvents, [{
    type: "device-ready",
    network: "10.0.0.0/24",
    address: "10.0.0.1",
    device: "srv0",
    mtu: 1420,
    capacity: 253,
  }]);
  const serverTun = serverDevices.opened[0].tun;
  const devices = memoryDevices("cli");
  const events: VpnClientEvent[] = [];
  const vpn = new VpnClient({
    mtu: 1500,
    routes: [Cidr.parse("192.168.7.0/24")],
    onEvent: (event) => events.push(event),
    openDevice: devices.open,
  });
  assert.equal(vpn.status(), undefined);
  assert.ok(vpn.covers("192.168.7.9"), "a routed network is covered before any session");
  assert.ok(!vpn.covers("10.0.0.9"), "the VPN's network is not known yet");

  const { session, served } = await connect();
  const link = await vpn.link(session);
  await vpn.use(link);
  assert.deepEqual(events, [
    { type: "mtu-lowered", mtu: 1420, asked: 1500 },
    {
      type: "device-ready",
      address: "10.0.0.2/24",
      device: "cli0",
      mtu: 1420,
      server: "10.0.0.1",
      routes: ["10.0.0.0/24", "192.168.7.0/24"],
    },
  ]);
  assert.deepEqual(devices.opened[0].options, {
    mtu: 1420,
    address: { ip: "10.0.0.2", prefixLength: 24 },
    peer: "10.0.0.1",
    routes: ["192.168.7.0/24"],
  });
  assert.deepEqual(vpn.status(), {
    address: "10.0.0.2/24",
    device: "cli0",
    routes: ["192.168.7.0/24"],
  });
  assert.ok(vpn.covers("10.0.0.9"));
  assert.ok(!vpn.covers("10.0.1.1"));
  assert.ok(!vpn.covers("not an address"));
  assert.deepEqual(server.status(), {
    network: "10.0.0.0/24",
    address: "10.0.0.1/24",
    device: "srv0",
    clients: 1,
  });

  const clientTun = devices.opened[0].tun;
  clientTun.inject([packet([10, 0, 0, 2], [10, 0, 0, 1], 1)]);
  await serverTun.waitForWritten(1);
  assert.deepEqual(serverTun.written.map(markOf), [1]);
  serverTun.inject([packet([10, 0, 0, 1], [10, 0, 0, 2], 2)]);
  await clientTun.waitForWritten(1);
  assert.deepEqual(clientTun.written.map(markOf), [2]);
  // The session's counters (the status view's) count the IP bytes each way.
  const sizeOf = (mark: number, from: number[], to: number[]) => packet(from, to, mark).length;
  assert.equal(session.stats.sent, sizeOf(1, [10, 0, 0, 2], [10, 0, 0, 1]));
  assert.equal(session.stats.received, sizeOf(2, [10, 0, 0, 1], [10, 0, 0, 2]));

  // The same instance again: the same address, the device stays.
  vpn.lost();
  session.conn.close({ code: 0, reason: "test" });
  await served;
  const again = await connect();
  await vpn.use(await vpn.link(again.session));
  assert.deepEqual(events.at(-1), { type: "device-kept", address: "10.0.0.2/24", device: "cli0" });
  assert.equal(devices.opened.length, 1);
  clientTun.inject([packet([10, 0, 0, 2], [10, 0, 0, 1], 3)]);
  await serverTun.waitForWritten(2);
  assert.deepEqual(serverTun.written.map(markOf), [1, 3]);

  await vpn.close();
  assert.equal(vpn.status(), undefined);
  again.session.conn.close({ code: 0, reason: "test" });
  await again.served;
  await server.close();
});

Deno.test("VpnClient makes its device again when a session gives another address", async () => {
  const first = await startServer("10.0.0.0/24");
  const second = await startServer("10.5.0.0/24");
  const devices = memoryDevices("cli");
  const events: VpnClientEvent[] = [];
  const vpn = new VpnClient({
    mtu: 1420,
    routes: [],
    onEvent: (event) => events.push(event),
    openDevice: devices.open,
  });
  const a = await first.connect();
  await vpn.use(await vpn.link(a.session));
  vpn.lost();
  const b = await second.connect();
  await vpn.use(await vpn.link(b.session));
  assert.deepEqual(events.map((event) => event.type), [
    "device-ready",
    "address-changed",
    "device-ready",
  ]);
  assert.deepEqual(events[1], { type: "address-changed", from: "10.0.0.2/24", to: "10.5.0.2/24" });
  assert.equal(devices.opened.length, 2);
  assert.equal(await devices.opened[0].tun.read(), null, "the first device is closed");
  assert.ok(!vpn.covers("10.0.0.9"));
  assert.ok(vpn.covers("10.5.0.9"));
  await vpn.close();
  for (const { session, served } of [a, b]) {
    session.conn.close({ code: 0, reason: "test" });
    await served;
  }
  await first.server.close();
  await second.server.close();
});

Deno.test("openVpnServer: a full pool's refusal carries the caller's advice; covers its network", async () => {
  const { server, connect } = await startServer("10.9.0.0/30");
  assert.ok(server.covers("10.9.0.1"));
  assert.ok(!server.covers("10.9.1.1"));
  const { session, served } = await connect();
  // Another instance than the one holding the only address.
  const [client, conn] = memoryConnectionPair();
  const other = serveConnection(conn, {
    authenticate: () => true,
    services: { ip: server.service() },
    sessions: new SessionLimiter(8),
    log: silentLog,
    label: "test",
  });
  await assert.rejects(
    () => openClientSession(client, TOKEN, vpnRequest("cd".repeat(16))),
    (error) =>
      error instanceof SessionRefusedError && error.kind === "source" &&
      error.reason ===
        "VPN address pool 10.9.0.0/30 is exhausted (1 client address, all in use); ask for more" &&
      error.request === vpnRequest("cd".repeat(16)),
  );
  await other;
  session.conn.close({ code: 0, reason: "test" });
  await served;
  await server.close();
});

Deno.test("openVpnServer: forwarding is set up after the device, undone before it goes", async () => {
  const steps: string[] = [];
  const events: VpnServerEvent[] = [];
  const server = await openVpnServer({
    pool: new AddressPool(Cidr.parse("10.0.0.0/24")),
    mtu: 1420,
    masquerade: { outInterface: "eth0" },
    onEvent: (event) => events.push(event),
    openDevice: (options) => {
      steps.push("open");
      const tun = new MemoryTun("srv0", options.mtu);
      const close = tun.close.bind(tun);
      tun.close = () => {
        steps.push("device closed");
        return close();
      };
      return Promise.resolve(tun);
    },
    enableForwarding: (options: HostForwardingOptions): Promise<HostForwarding> => {
      steps.push(`forward ${options.network} ${options.tunName} ${options.outInterface}`);
      return Promise.resolve({
        close: () => Promise.resolve(void steps.push("forwarding undone")),
      });
    },
  });
  assert.deepEqual(events.map((event) => event.type), ["device-ready", "forwarding-enabled"]);
  assert.deepEqual(events[1], { type: "forwarding-enabled", outInterface: "eth0", device: "srv0" });
  await server.close();
  assert.deepEqual(steps, [
    "open",
    "forward 10.0.0.0/24 srv0 eth0",
    "forwarding undone",
    "device closed",
  ]);
});

Deno.test("openVpnServer: forwarding that fails is a ForwardingSetupError, and the device goes", async () => {
  let closed = false;
  await assert.rejects(
    () =>
      openVpnServer({
        pool: new AddressPool(Cidr.parse("10.0.0.0/24")),
        mtu: 1420,
        masquerade: {},
        openDevice: () => {
          const tun = new MemoryTun("srv0");
          const close = tun.close.bind(tun);
          tun.close = () => {
            closed = true;
            return close();
          };
          return Promise.resolve(tun);
        },
        enableForwarding: () => Promise.reject(new Error("iptables: not found")),
      }),
    (error) =>
      error instanceof ForwardingSetupError && error.message === "iptables: not found" &&
      (error.cause as Error).message === "iptables: not found",
  );
  assert.ok(closed);
});
