// Runs on the bed's public host: `deno run --unstable-net --allow-net _probe_server.ts
// ip1 ip2 port1 port2`. Listens on all four ip x port pairs. A request is JSON
// {"id": string, "alt": Change[]}; each answer is JSON {"id", "mapped", "via"} where
// `mapped` is the source address the server saw. It answers first from every socket
// named in `alt` (other port, other ip, or both), then from the socket that received the
// request, so a client that sees the "none" answer has already had its chance to see the
// alternates. Prints "ready" once bound.
type Change = "none" | "port" | "ip" | "ip+port";

const [ip1, ip2, port1, port2] = Deno.args;
const ips = [ip1, ip2];
const ports = [Number(port1), Number(port2)];
const sockets = ips.map((hostname) =>
  ports.map((port) => Deno.listenDatagram({ transport: "udp", hostname, port }))
);

async function serve(i: number, j: number): Promise<void> {
  for await (const [data, addr] of sockets[i][j]) {
    let request: { id: string; alt?: Change[] };
    try {
      request = JSON.parse(new TextDecoder().decode(data));
    } catch {
      continue; // not ours
    }
    const from = addr as Deno.NetAddr;
    const mapped = `${from.hostname}:${from.port}`;
    for (const via of [...(request.alt ?? []), "none" as const]) {
      const si = via.startsWith("ip") ? 1 - i : i;
      const sj = via.endsWith("port") ? 1 - j : j;
      const answer = JSON.stringify({ id: request.id, mapped, via });
      await sockets[si][sj].send(new TextEncoder().encode(answer), from);
    }
  }
}

console.log("ready");
await Promise.all([serve(0, 0), serve(0, 1), serve(1, 0), serve(1, 1)]);
