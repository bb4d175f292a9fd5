#!/bin/sh
# Image build step (Dockerfile): fills DENO_DIR with what `deno run cli/main.ts` loads and
# nothing that only the tests use. Run from the app folder (deno.json, deno.lock, cli/,
# core/). tests/e2e/container_image_test.ts runs this same script without Docker.
set -eu
here=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The CLI's module graph; --no-npm resolves npm packages from the lockfile, fetching none.
DENO_DIR="$work" deno info --json --no-npm cli/main.ts >"$work/graph.json"
DENO_DIR="$work" deno run --no-config --no-lock \
  --allow-read=deno.json,deno.lock --allow-write=deno.json,deno.lock \
  "$here/image_lockfile.ts" <"$work/graph.json"
# --frozen: a lockfile that does not match deno.json fails the build, and every package
# is checked against the committed integrity hash.
deno cache --frozen cli/main.ts
