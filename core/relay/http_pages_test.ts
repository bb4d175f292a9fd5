import assert from "node:assert/strict";
import {
  captivePortalResponse,
  indexResponse,
  MAX_CAPTIVE_CHALLENGE_LENGTH,
  plainHttpResponse,
  robotsResponse,
} from "./http_pages.ts";

function probe(challenge: string | undefined): Response {
  return captivePortalResponse(
    new Request("http://relay.test/generate_204", {
      headers: challenge === undefined ? {} : { "x-iroh-challenge": challenge },
    }),
  );
}

Deno.test("captive portal: a challenge of 63 characters is echoed, 64 is not (iroh's bound)", () => {
  assert.equal(MAX_CAPTIVE_CHALLENGE_LENGTH, 63);
  const at63 = "a".repeat(60) + "._-";
  const answer = probe(at63);
  assert.equal(answer.status, 204);
  assert.equal(answer.headers.get("x-iroh-response"), `response ${at63}`);
  const at64 = probe("b".repeat(64));
  assert.equal(at64.status, 204);
  assert.equal(at64.headers.get("x-iroh-response"), null);
});

Deno.test("captive portal: iroh's own challenge is echoed; none, empty or foreign characters are not", () => {
  assert.equal(
    probe("ts_relay.example.org").headers.get("x-iroh-response"),
    "response ts_relay.example.org",
  );
  for (const challenge of [undefined, "", "a b", "a/b", "é", "a:b"]) {
    const answer = probe(challenge);
    assert.equal(answer.status, 204);
    assert.equal(answer.headers.get("x-iroh-response"), null, `challenge ${challenge}`);
  }
});

Deno.test("robots.txt disallows everything; the index page says what this is", async () => {
  assert.equal(await robotsResponse().text(), "User-agent: *\nDisallow: /\n");
  const index = indexResponse();
  assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await index.text(), /relay[\s\S]*\/relay/);
});

Deno.test("plain HTTP beside HTTPS: the captive-portal check and robots.txt, nothing else", async () => {
  const at = (path: string, method = "GET") =>
    plainHttpResponse(new Request(`http://relay.test${path}`, { method }));
  assert.equal(at("/generate_204").status, 204);
  assert.equal(at("/robots.txt").status, 200);
  for (const path of ["/relay", "/pkarr/abc", "/metrics", "/healthz", "/", "/index.html"]) {
    const answer = at(path);
    assert.equal(answer.status, 404, path);
    await answer.body?.cancel();
  }
  assert.equal(at("/generate_204", "POST").status, 404);
});
