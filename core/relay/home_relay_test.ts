import assert from "node:assert/strict";
import { pickHomeRelay, relayPingUrl } from "./home_relay.ts";

Deno.test("relayPingUrl: /ping on the relay's origin, ws(s) mapped to http(s)", () => {
  assert.equal(relayPingUrl("https://relay.example/"), "https://relay.example/ping");
  assert.equal(
    relayPingUrl("wss://relay.example:8443/relay?x=1"),
    "https://relay.example:8443/ping",
  );
  assert.equal(relayPingUrl("http://127.0.0.1:3340"), "http://127.0.0.1:3340/ping");
});

Deno.test("pickHomeRelay: the first relay to answer 200 wins; failures and silence lose", async () => {
  const delays: Record<string, number> = {
    "http://slow.test/ping": 80,
    "http://fast.test/ping": 10,
    "http://broken.test/ping": 1,
  };
  const fakeFetch =
    ((input: string, init?: RequestInit) =>
      new Promise<Response>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            resolve(
              new Response("", { status: input.startsWith("http://broken") ? 500 : 200 }),
            ),
          delays[input],
        );
        init?.signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new DOMException("aborted", "AbortError"));
        });
      })) as typeof fetch;
  const home = await pickHomeRelay(
    ["http://slow.test/", "http://broken.test/", "http://fast.test/"],
    { fetch: fakeFetch },
  );
  assert.equal(home, "http://fast.test/");
  assert.equal(
    await pickHomeRelay(["http://slow.test/"], { fetch: fakeFetch, timeoutMs: 20 }),
    undefined,
  );
  assert.equal(await pickHomeRelay([], { fetch: fakeFetch }), undefined);
});

Deno.test("pickHomeRelay: against a real listener on loopback", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/ping"
        ? new Response("")
        : new Response("", { status: 404 }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/`;
  assert.equal(await pickHomeRelay(["http://127.0.0.1:1/", url]), url);
});
