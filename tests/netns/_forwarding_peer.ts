/**
 * Runs in the server namespace of `host_forwarding_test.ts`: enables host forwarding for
 * `<network> <tun> [outInterface]`, prints "ready", and tears it down on SIGTERM or SIGINT,
 * as the VPN server does.
 * @module
 */
import { enableHostForwarding } from "../../core/vpn/host/mod.ts";

const [network, tunName, outInterface] = Deno.args;
try {
  const forwarding = await enableHostForwarding({ network, tunName, outInterface });
  console.log("ready");
  const signal = await new Promise<Deno.Signal>((resolve) => {
    for (const s of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(s, () => resolve(s));
  });
  await forwarding.close();
  console.log(`closed after ${signal}`);
  Deno.exit(0);
} catch (error) {
  console.log((error as Error).message);
  Deno.exit(1);
}
