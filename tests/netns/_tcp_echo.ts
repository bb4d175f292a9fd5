// Run inside a namespace: a TCP echo server on the address given (default 127.0.0.1);
// prints its port.
import { startTcpEchoServer } from "../harness/mod.ts";

const echo = startTcpEchoServer({ hostname: Deno.args[0] ?? "127.0.0.1" });
console.log(`echo ${echo.port}`);
