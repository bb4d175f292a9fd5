/**
 * Runs inside a test namespace (`ip netns exec`) and drives a TUN device
 * through `core/vpn`. Modes, first argument:
 * - `echo <cidr> <seconds>`: answers ICMP echo requests routed into the device until SIGTERM.
 * - `hold <name>`: creates the device, prints its name, waits to be killed.
 * - `open <name>`: tries to create the device, prints the error message or "ok".
 * - `sink <cidr> <seconds>`: counts packets read; prints `read <packets> <seconds>`.
 * - `source <cidr> <dst> <count>`: writes `count` 1,420-byte UDP packets; prints `write <packets> <seconds>`.
 * - `close`: opens a device, closes it while a read waits, prints its name and what the read gave.
 * @module
 */
import { openLinuxTun, openTunDevice } from "../../core/vpn/device/mod.ts";
import { echoReply, udpPacket } from "./_ipv4_packets.ts";

const [mode, ...args] = Deno.args;

function address(cidr: string) {
  const [ip, prefix] = cidr.split("/");
  return { ip, prefixLength: Number(prefix) };
}

if (mode === "echo") {
  const tun = await openTunDevice({ name: "tun%d", mtu: 1420, address: address(args[0]) });
  console.log(tun.name);
  const timer = setTimeout(() => tun.close(), Number(args[1]) * 1000);
  Deno.addSignalListener("SIGTERM", () => tun.close());
  for (let batch = await tun.read(); batch; batch = await tun.read()) {
    tun.write(batch.map(echoReply).filter((p): p is Uint8Array => p !== undefined));
  }
  clearTimeout(timer);
  Deno.exit(0); // the SIGTERM listener would keep the process alive
} else if (mode === "hold") {
  const tun = openLinuxTun({ name: args[0], mtu: 1420 });
  console.log(tun.name);
  // A pending read keeps the process (and so the device) alive until it is killed.
  while (await tun.read() !== null);
} else if (mode === "open") {
  try {
    await openLinuxTun({ name: args[0], mtu: 1420 }).close();
    console.log("ok");
  } catch (error) {
    console.log((error as Error).message);
  }
} else if (mode === "close") {
  const tun = openLinuxTun({ name: "tun%d", mtu: 1420 });
  const pending = tun.read();
  await tun.close();
  console.log(tun.name, await pending);
} else if (mode === "sink") {
  const tun = await openTunDevice({ name: "tun%d", mtu: 1420, address: address(args[0]) });
  console.log(tun.name);
  let packets = 0;
  let first = 0;
  let last = 0;
  setTimeout(() => tun.close(), Number(args[1]) * 1000);
  for (let batch = await tun.read(); batch; batch = await tun.read()) {
    // Only the source's UDP: the kernel's own IPv6 solicitations come earlier.
    const udp = batch.filter((p) => p[0] >> 4 === 4 && p[9] === 17).length;
    if (udp === 0) continue;
    if (packets === 0) first = performance.now();
    packets += udp;
    last = performance.now();
  }
  console.log(`read ${packets} ${((last - first) / 1000).toFixed(3)}`);
} else if (mode === "source") {
  const tun = await openTunDevice({ name: "tun%d", mtu: 1420, address: address(args[0]) });
  console.log(tun.name);
  const src = args[0].split("/")[0].split(".").map(Number);
  src[3] += 1; // a neighbour on the device's own network, so reverse-path filtering agrees
  const packet = udpPacket(src, args[1].split(".").map(Number), 1420);
  const count = Number(args[2]);
  const batch = Array.from({ length: 64 }, () => packet);
  const start = performance.now();
  for (let sent = 0; sent < count; sent += batch.length) tun.write(batch);
  const seconds = (performance.now() - start) / 1000;
  console.log(`write ${count} ${seconds.toFixed(3)}`);
  await tun.close();
} else {
  console.error(`unknown mode '${mode}'`);
  Deno.exit(2);
}
