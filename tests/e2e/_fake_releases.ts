// Private to tests/e2e: a stand-in for GitHub's releases API and release downloads
// on loopback, for the installer tests. Every release carries a tiny shell script
// per binary name, which prints "tunnel <tag> <asset>", and a SHA256SUMS over them.
import { CHECKSUM_FILE, RELEASE_TARGETS } from "../../scripts/release_targets.ts";
import { sha256sums } from "../../scripts/release_assets.ts";

/** A release as the fake server offers it. */
export interface FakeRelease {
  tag: string;
  prerelease: boolean;
  /** An asset whose SHA256SUMS line is wrong. */
  corrupt?: string;
}

/**
 * Newest first, as GitHub lists them. The newest is stable, so "newest prerelease"
 * (v0.2.0-rc.2) differs from "newest release" and from "latest stable" (v0.2.0).
 */
export const FAKE_RELEASES: readonly FakeRelease[] = [
  { tag: "v0.2.0", prerelease: false },
  { tag: "v0.2.0-rc.2", prerelease: true },
  { tag: "v0.2.0-rc.1", prerelease: true },
  { tag: "v0.1.0", prerelease: false },
  { tag: "v0.0.9", prerelease: false, corrupt: "tunnel-linux-x64" },
];

/** The latest stable release of {@linkcode FAKE_RELEASES}. */
export const LATEST_STABLE = "v0.2.0";

/** What a fake binary prints when run. */
export function fakeBinaryOutput(tag: string, asset: string): string {
  return `tunnel ${tag} ${asset}`;
}

function fakeBinary(tag: string, asset: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`#!/bin/sh\necho "${fakeBinaryOutput(tag, asset)}"\n`);
}

async function checksums(release: FakeRelease): Promise<string> {
  const files = RELEASE_TARGETS.map(({ asset }) => ({
    name: asset,
    bytes: fakeBinary(release.tag, asset),
  }));
  const text = await sha256sums(files);
  if (release.corrupt === undefined) return text;
  return text.replace(
    /^[0-9a-f]{64}(?= {2}(\S+)$)/gm,
    (hash, name) => name === release.corrupt ? "0".repeat(64) : hash,
  );
}

/** The API's JSON for a release, with the noise a real answer has around the two fields. */
function releaseJson(release: FakeRelease, index: number): Record<string, unknown> {
  const assets = RELEASE_TARGETS.map(({ asset }) => ({
    name: asset,
    uploader: { login: "release-bot", type: "Bot" },
    browser_download_url: `https://example.invalid/${release.tag}/${asset}`,
  }));
  // Release notes that quote the fields must not be taken for them.
  const body = `Notes: "tag_name": "v9.9.9", "prerelease": ${!release.prerelease}`;
  const fields = { tag_name: release.tag, prerelease: release.prerelease };
  // Every other release lists prerelease before tag_name: the installer must not
  // depend on the order.
  const [first, second] = index % 2 === 0
    ? [{ tag_name: fields.tag_name }, { prerelease: fields.prerelease }]
    : [{ prerelease: fields.prerelease }, { tag_name: fields.tag_name }];
  return { id: index + 1, ...first, name: release.tag, draft: false, ...second, body, assets };
}

/** A running fake; stops when disposed. */
export interface FakeReleaseServer extends AsyncDisposable {
  /** Base of the releases API, for TUNNEL_RELEASES_API. */
  api: string;
  /** Base of the downloads, for TUNNEL_DOWNLOAD_BASE. */
  downloads: string;
  /** Every path asked for, in order, with its query. */
  requests: string[];
}

/** Starts the fake on 127.0.0.1 on a free port. */
export function startFakeReleaseServer(): FakeReleaseServer {
  const requests: string[] = [];
  const byTag = new Map(FAKE_RELEASES.map((release, index) => [release.tag, { release, index }]));
  const json = (value: unknown, pretty = false) =>
    new Response(JSON.stringify(value, null, pretty ? 2 : undefined), {
      headers: { "content-type": "application/json" },
    });
  const notFound = () => Response.json({ message: "Not Found" }, { status: 404 });

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      requests.push(url.pathname + url.search);
      const path = url.pathname;
      if (path === "/api/releases") return json(FAKE_RELEASES.map(releaseJson));
      if (path === "/api/releases/latest") {
        const { release, index } = byTag.get(LATEST_STABLE)!;
        return json(releaseJson(release, index), true);
      }
      const tagMatch = /^\/api\/releases\/tags\/([^/]+)$/.exec(path);
      if (tagMatch) {
        const found = byTag.get(decodeURIComponent(tagMatch[1]));
        return found ? json(releaseJson(found.release, found.index), true) : notFound();
      }
      const download = /^\/download\/([^/]+)\/([^/]+)$/.exec(path);
      const release = download && byTag.get(decodeURIComponent(download[1]))?.release;
      if (download && release) {
        const name = decodeURIComponent(download[2]);
        if (name === CHECKSUM_FILE) return new Response(await checksums(release));
        if (RELEASE_TARGETS.some(({ asset }) => asset === name)) {
          return new Response(fakeBinary(release.tag, name));
        }
      }
      return notFound();
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    api: `${base}/api/releases`,
    downloads: `${base}/download`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
