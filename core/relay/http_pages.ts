/**
 * The small plain-HTTP answers a relay gives besides the relay protocol, as
 * iroh-relay gives them: the captive-portal check (`/generate_204`),
 * `/robots.txt`, the index page, the headers every answer over TLS carries, and
 * the routes of the plain HTTP listener that runs beside an HTTPS relay.
 * Request in, response out: no sockets.
 * @module
 */

/** The header iroh's captive-portal check sends a challenge in. */
export const CAPTIVE_CHALLENGE_HEADER = "x-iroh-challenge";
/** The header the challenge comes back in, as `response <challenge>`. */
export const CAPTIVE_RESPONSE_HEADER = "x-iroh-response";
/**
 * Longest challenge echoed: iroh-relay echoes one shorter than 64 bytes. iroh
 * sends `ts_<relay host name>`, so a host name of 60 characters fits.
 */
export const MAX_CAPTIVE_CHALLENGE_LENGTH = 63;
/** Characters a challenge may hold (iroh-relay's set): letters, digits, `.`, `-`, `_`. */
const CHALLENGE_PATTERN = new RegExp(`^[A-Za-z0-9._-]{1,${MAX_CAPTIVE_CHALLENGE_LENGTH}}$`);

/** `/robots.txt`: a relay has nothing for crawlers. */
export const ROBOTS_TXT = "User-agent: *\nDisallow: /\n";

/** `/` and `/index.html`: what this server is, for whoever opens it in a browser. */
export const INDEX_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>tunnel relay</title></head><body>
<h1>tunnel relay</h1>
<p>This is a relay for <code>tunnel</code> and iroh endpoints: iroh's relay protocol on
<code>/relay</code> (WebSocket) and discovery records on <code>/pkarr/</code>.
There is nothing to browse here.</p>
</body></html>
`;

/**
 * Headers on every answer over HTTPS: HSTS (browsers keep to HTTPS for this
 * host for two years, as iroh-relay asks) and a policy that lets the page load
 * nothing. Over plain HTTP a browser ignores HSTS (RFC 6797), so it is not sent.
 */
export const TLS_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "content-security-policy":
    "default-src 'none'; frame-ancestors 'none'; form-action 'none'; base-uri 'self'",
};

/**
 * Answers iroh's captive-portal check: 204, and the challenge echoed when it is
 * 1 to {@linkcode MAX_CAPTIVE_CHALLENGE_LENGTH} characters of the allowed set
 * (a portal that intercepts the request cannot know it, so iroh detects it).
 *
 * @example
 * ```ts
 * const reply = captivePortalResponse(
 *   new Request("http://relay.example/generate_204", { headers: { "x-iroh-challenge": "ts_a" } }),
 * );
 * console.log(reply.status, reply.headers.get("x-iroh-response")); // 204 "response ts_a"
 * ```
 */
export function captivePortalResponse(request: Request): Response {
  const challenge = request.headers.get(CAPTIVE_CHALLENGE_HEADER);
  const headers = new Headers();
  if (challenge !== null && CHALLENGE_PATTERN.test(challenge)) {
    headers.set(CAPTIVE_RESPONSE_HEADER, `response ${challenge}`);
  }
  return new Response(null, { status: 204, headers });
}

/** `/robots.txt`. */
export function robotsResponse(): Response {
  return textResponse(200, ROBOTS_TXT);
}

/** `/` and `/index.html`. */
export function indexResponse(): Response {
  return new Response(INDEX_HTML, {
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/**
 * The routes of the plain HTTP listener beside an HTTPS relay: the
 * captive-portal check (iroh probes it over plain HTTP on port 80, since a
 * portal intercepts plain HTTP) and `/robots.txt`. Nothing else is served in
 * the clear: not the relay protocol, records, metrics or health.
 *
 * @example
 * ```ts
 * const reply = plainHttpResponse(new Request("http://relay.example/relay"));
 * console.log(reply.status); // 404
 * ```
 */
export function plainHttpResponse(request: Request): Response {
  const { pathname } = new URL(request.url);
  if (request.method === "GET" || request.method === "HEAD") {
    if (pathname === "/generate_204") return captivePortalResponse(request);
    if (pathname === "/robots.txt") return robotsResponse();
  }
  return textResponse(
    404,
    "Not found: this relay serves HTTPS; plain HTTP answers /generate_204\n",
  );
}

function textResponse(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
