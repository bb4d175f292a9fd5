// Run inside a namespace: a TCP echo server on 127.0.0.1; prints its port.
import { startTcpEchoServer } from "../harness/mod.ts";

const echo = startTcpEchoServer();
console.log(`echo ${echo.port}`);
