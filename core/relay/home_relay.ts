/**
 * Choosing a home relay among several, as iroh does when it is given its
 * default relay map: the relay that answers first is the closest one, and the
 * one a server stays at and publishes.
 * @module
 */

/** How long to wait for any relay to answer. */
export const HOME_RELAY_PROBE_MS = 5_000;

/** Options of {@linkcode pickHomeRelay}. */
export interface PickHomeRelayOptions {
  /** Give up after this long (default {@linkcode HOME_RELAY_PROBE_MS}). */
  timeoutMs?: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
}

/** The `/ping` URL of a relay given as iroh writes it (`https://relay.example/`). */
export function relayPingUrl(relayUrl: string): string {
  const url = new URL(relayUrl);
  url.protocol = { "ws:": "http:", "wss:": "https:" }[url.protocol] ?? url.protocol;
  url.pathname = "/ping";
  url.search = "";
  return url.toString();
}

/**
 * Asks every relay's `/ping` at once and returns the first to answer 200, or
 * undefined when none did in time. The other requests are cancelled.
 */
export async function pickHomeRelay(
  relayUrls: readonly string[],
  options: PickHomeRelayOptions = {},
): Promise<string | undefined> {
  if (relayUrls.length === 0) return undefined;
  const doFetch = options.fetch ?? fetch;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? HOME_RELAY_PROBE_MS);
  const probes = relayUrls.map(async (url) => {
    const response = await doFetch(relayPingUrl(url), { signal: abort.signal });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return url;
  });
  try {
    return await Promise.any(probes);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    abort.abort();
    // The losers reject with the abort; nobody waits for them.
    for (const probe of probes) probe.catch(() => {});
  }
}
