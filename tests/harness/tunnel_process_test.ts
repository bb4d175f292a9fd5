import { deepStrictEqual, equal, match, rejects } from "node:assert/strict";
import { startTcpEchoServer } from "./echo_server.ts";
import { transferPayload } from "./tcp_payload.ts";
import {
  FORWARDING_PERMISSION_FLAGS,
  forwardingPermissionFlags,
  RELAY_PERMISSION_FLAGS,
  relayPermissionFlags,
  runCli,
  startClient,
  startServer,
  TunnelStartError,
} from "./tunnel_process.ts";

// These tests run the harness against a stand-in CLI that speaks the same contract.
const mainModule = decodeURIComponent(new URL("./_fake_tunnel_cli.ts", import.meta.url).pathname);

Deno.test("forwardingPermissionFlags() adds --allow-read only for named files", () => {
  deepStrictEqual(forwardingPermissionFlags(), [...FORWARDING_PERMISSION_FLAGS]);
  deepStrictEqual(forwardingPermissionFlags(["/a", "/b", "/a"]).at(-1), "--allow-read=/a,/b");
});

Deno.test("relayPermissionFlags() adds reads and writes of the --records-file only", () => {
  deepStrictEqual(relayPermissionFlags(["relay", "--no-stun"]), [...RELAY_PERMISSION_FLAGS]);
  deepStrictEqual(relayPermissionFlags(["relay", "--records-file", "/r.sqlite"], ["/c.toml"]), [
    ...RELAY_PERMISSION_FLAGS,
    "--allow-read=/c.toml,/r.sqlite",
    "--allow-write=/r.sqlite",
  ]);
});

Deno.test("startServer() parses the EndpointId and listening addresses", async () => {
  await using server = await startServer({ authTokens: "tok", mainModule });
  equal(server.endpointId, "a".repeat(52));
  deepStrictEqual(server.addrs, ["127.0.0.1:4433", "[::1]:4433"]);
  equal(server.addr, "127.0.0.1:4433");
});

Deno.test("startClient() reports the bound port and carries a payload", async () => {
  await using echo = startTcpEchoServer();
  await using client = await startClient({
    serverNodeId: "a".repeat(52),
    serverAddr: "127.0.0.1:4433",
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: "tok",
    mainModule,
  });
  equal(client.source, `tcp://127.0.0.1:${echo.port}`);
  const { sent, received } = await transferPayload(client.localPort, 2 << 20);
  deepStrictEqual(received, sent);
});

Deno.test("startServer() throws the CLI's Error line when it exits early", async () => {
  await rejects(
    startServer({ authTokens: "tok", mainModule, extraArgs: ["--fake-mode", "fail"] }),
    (error: TunnelStartError) => {
      equal(error instanceof TunnelStartError, true);
      equal(error.code, 2);
      equal(error.reason, "Error: fake failure requested");
      match(error.message, /exited with code 2/);
      return true;
    },
  );
});

Deno.test("startClient() times out when no ready line comes", async () => {
  await rejects(
    startClient({
      serverNodeId: "x",
      source: "tcp://127.0.0.1:1",
      mainModule,
      timeoutMs: 1_500,
      extraArgs: ["--fake-mode", "hang"],
    }),
    /no ready line within 1500 ms/,
  );
});

Deno.test("stop() kills a server that ignores SIGINT", async () => {
  const server = await startServer({
    authTokens: "tok",
    mainModule,
    stopGraceMs: 300,
    extraArgs: ["--fake-mode", "ignore-sigint"],
  });
  equal((await server.stop()).signal, "SIGKILL");
});

Deno.test("runCli() returns output and feeds stdin", async () => {
  const token = await runCli(["generate-token"], { mainModule });
  equal(token.code, 0);
  equal(token.stdout.trim().length, 18);
  const echoed = await runCli(["echo-stdin"], { mainModule, stdin: "hello stdin" });
  equal(echoed.stdout, "hello stdin\n");
});
