// A UDP echo service in a process of its own, so a test that floods the tunnel
// does not also starve the service of CPU time on the test's JavaScript thread.
// Prints its port, then echoes until its stdin closes.
const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
console.log((socket.addr as Deno.NetAddr).port);
const serving = (async () => {
  const buffer = new Uint8Array(65_536);
  for (;;) {
    try {
      const [data, from] = await socket.receive(buffer);
      await socket.send(data, from);
    } catch (error) {
      if (error instanceof Deno.errors.BadResource) return;
    }
  }
})();
for await (const _ of Deno.stdin.readable) { /* until EOF */ }
socket.close();
await serving;
