import { generateToken } from "../core/auth/mod.ts";
import { startVpnClient, startVpnServer } from "../tests/netns/mod.ts";
import type { VpnUnderTest } from "./vpn_suite.ts";

// Direct paths only: the veth pair has no relay, pkarr or STUN server to wait for.
const OFFLINE = ["--no-relay", "--no-dns", "--no-stun"];

/**
 * Our VPN's row of the VPN suite: `tunnel vpn server` in the right namespace (the
 * suite's network, `.1`) and `tunnel vpn client` in the left, over the veth by the
 * server's direct address, MTU 1420 (the default, as wireguard-go's row).
 */
export const tunnelVpn: VpnUnderTest = {
  path: "tunnel vpn",
  async start({ pair, network, mainModule }) {
    const token = generateToken();
    const port = await pair.freeUdpPort(pair.right);
    const scratch = await Deno.makeTempDir({ prefix: "tunnel-vpn-bench-" });
    const server = await startVpnServer(pair.right, [
      "--bind",
      `${pair.right.ip}:${port}`,
      "--network",
      network,
      "--auth-tokens",
      token,
      ...OFFLINE,
    ], { mainModule });
    const stopServer = async () => void await server.proc.stop();
    let client;
    try {
      client = await startVpnClient(pair.left, server.id, [
        "--server-addr",
        `${pair.right.ip}:${port}`,
        "--auth-token",
        token,
        ...OFFLINE,
      ], { mainModule, lockFile: `${scratch}/client.lock` });
    } catch (error) {
      await stopServer();
      await Deno.remove(scratch, { recursive: true });
      throw error;
    }
    let stopping: Promise<void> | undefined;
    return {
      leftIp: client.address,
      rightIp: server.address,
      stop: () =>
        stopping ??= (async () => {
          await client.proc.stop();
          await stopServer();
          await Deno.remove(scratch, { recursive: true }).catch(() => {});
        })(),
    };
  },
};
