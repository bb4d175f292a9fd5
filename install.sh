#!/bin/sh
# Installs the `tunnel` binary from a GitHub release of this project, after
# checking it against the release's SHA256SUMS. Linux and macOS, x64 and arm64;
# Windows has install.ps1. Run `sh install.sh --help` for the options.
#
# The environment variables it reads (the tests point the last two at a local server):
#   TUNNEL_REPO           owner/name to install from; overrides the stamp below
#   TUNNEL_RELEASES_API   releases API base, default https://api.github.com/repos/OWNER/NAME/releases
#   TUNNEL_DOWNLOAD_BASE  asset base, assets are BASE/TAG/NAME,
#                         default https://github.com/OWNER/NAME/releases/download
set -eu

# The release workflow writes owner/name here (scripts/release_assets.ts).
STAMPED_REPO="__TUNNEL_REPOSITORY__"

# The platforms this script installs, as the release names its binaries
# (tunnel-<os>-<arch>); scripts/release_targets.ts is the list they must match.
SUPPORTED="linux-x64 linux-arm64 darwin-x64 darwin-arm64"

say() { printf 'tunnel-install: %s\n' "$*"; }
die() {
  printf 'tunnel-install: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<'EOF'
Installs tunnel from a GitHub release, checked against the release's SHA256SUMS.

usage: install.sh [TAG] [--prerelease] [--prefix DIR] [--dry-run]

  TAG           install this release (for example v0.2.0); default: the latest stable one
  --prerelease  install the newest prerelease instead
  --prefix DIR  directory to put `tunnel` in; default: ~/.local/bin
  --dry-run     print what would be downloaded and where it would go; change nothing
  -h, --help    print this help

environment: TUNNEL_REPO=owner/name (where to install from), TUNNEL_RELEASES_API and
TUNNEL_DOWNLOAD_BASE (base URLs of the releases API and of the release assets)
EOF
}

parse_args() {
  tag="" prerelease=0 prefix="" dry_run=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --prerelease) prerelease=1 ;;
      --dry-run) dry_run=1 ;;
      --prefix)
        [ $# -ge 2 ] || die "--prefix needs a directory"
        prefix=$2
        shift
        ;;
      --prefix=*) prefix=${1#--prefix=} ;;
      -h | --help)
        usage
        exit 0
        ;;
      --) ;;
      -*) die "unknown option $1 (see --help)" ;;
      *)
        [ -z "$tag" ] || die "one tag at most, not $tag and $1"
        tag=$1
        ;;
    esac
    shift
  done
  [ -z "$tag" ] || [ "$prerelease" = 0 ] || die "give a tag or --prerelease, not both"
  case "$tag" in *[!A-Za-z0-9._+-]*) die "not a release tag: $tag" ;; esac
  if [ -z "$prefix" ]; then
    [ -n "${HOME:-}" ] || die "HOME is not set: choose a directory with --prefix DIR"
    prefix="$HOME/.local/bin"
  fi
  case "$prefix" in
    "~"/*) prefix="${HOME:?}/${prefix#"~/"}" ;;
    /*) ;;
    *) prefix="$(pwd)/$prefix" ;;
  esac
  prefix=${prefix%/}
}

# Sets os, arch and asset from uname, or refuses a platform without a binary.
detect_platform() {
  kernel=$(uname -s 2>/dev/null || echo unknown)
  machine=$(uname -m 2>/dev/null || echo unknown)
  os="" arch=""
  case "$kernel" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
  esac
  case "$machine" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
  esac
  # A shell under Rosetta sees x86_64 on an Apple silicon Mac: take the native binary.
  if [ "$os" = darwin ] && [ "$arch" = x64 ] &&
    [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
    arch=arm64
  fi
  case " $SUPPORTED " in
    *" $os-$arch "*) asset="tunnel-$os-$arch" ;;
    *) die "unsupported platform $kernel/$machine: install.sh supports $(echo "$SUPPORTED" | sed 's/ /, /g') (Windows: install.ps1)" ;;
  esac
}

# Sets repo, api and download_base from the stamp and the environment.
find_repository() {
  repo=${TUNNEL_REPO:-$STAMPED_REPO}
  case "$repo" in
    */*) ;;
    *) die "no repository to install from: set TUNNEL_REPO=owner/name" ;;
  esac
  case "$repo" in
    */*/* | *[!A-Za-z0-9._/-]*) die "TUNNEL_REPO is not owner/name: $repo" ;;
  esac
  api=${TUNNEL_RELEASES_API:-https://api.github.com/repos/$repo/releases}
  api=${api%/}
  download_base=${TUNNEL_DOWNLOAD_BASE:-https://github.com/$repo/releases/download}
  download_base=${download_base%/}
}

pick_tools() {
  if command -v curl >/dev/null 2>&1; then
    downloader=curl
  elif command -v wget >/dev/null 2>&1; then
    downloader=wget
  else
    die "neither curl nor wget is installed: install one of them and run this again"
  fi
  if command -v sha256sum >/dev/null 2>&1; then
    hasher=sha256sum
  elif command -v shasum >/dev/null 2>&1; then
    hasher=shasum
  else
    die "neither sha256sum nor shasum is installed: one is needed to check the download"
  fi
}

# Prints the JSON answer of the releases API at URL $1. Downloads are silent:
# a failure is reported once, by the caller, with failure_reason.
fetch_api() {
  if [ "$downloader" = curl ]; then
    curl -fsL --retry 2 -H 'Accept: application/vnd.github+json' "$1"
  else
    wget -q --header='Accept: application/vnd.github+json' -O - "$1"
  fi
}

# Downloads URL $1 to file $2.
fetch_file() {
  if [ "$downloader" = curl ]; then
    curl -fsL --retry 2 -o "$2" "$1"
  else
    wget -q -O "$2" "$1"
  fi
}

# Why a download failed, from the exit status $1 of curl or wget.
failure_reason() {
  case "$downloader:$1" in
    curl:22 | wget:8) echo "the server answered with an HTTP error" ;;
    curl:6 | curl:7 | curl:28 | wget:4) echo "cannot connect" ;;
    curl:35 | curl:60 | wget:5) echo "TLS failed" ;;
    *) echo "$downloader exited with status $1" ;;
  esac
}

# Reads releases API JSON (one release or a list, compact or indented) and prints
# "TAG true|false" per release, in the API's order (newest first). Each release has
# one tag_name and one prerelease field, and nested objects have neither, so the
# fields pair up two by two whatever their order; quotes inside strings are
# escaped, so text in release notes cannot look like a field.
release_list() {
  tr -d '\r\n' |
    grep -o -E '"(tag_name|prerelease)"[[:space:]]*:[[:space:]]*("[^"]*"|true|false)' |
    sed -E 's/^"([a-z_]+)"[[:space:]]*:[[:space:]]*"?([^"]*)"?$/\1 \2/' |
    awk '$1 == "tag_name" { tag = $2; n++ }
         $1 == "prerelease" { pre = $2; n++ }
         n == 2 { print tag, pre; n = 0 }'
}

# Sets tag to the release to install: the one asked for, the newest prerelease,
# or the latest stable release.
resolve_tag() {
  if [ -n "$tag" ]; then
    json=$(fetch_api "$api/tags/$tag") ||
      die "cannot find release $tag of $repo at $api/tags/$tag: $(failure_reason $?)"
    found=$(printf '%s' "$json" | release_list | awk 'NR == 1 { print $1 }')
    [ "$found" = "$tag" ] || die "the releases API answered $api/tags/$tag with no release $tag"
  elif [ "$prerelease" = 1 ]; then
    json=$(fetch_api "$api?per_page=100") ||
      die "cannot list the releases of $repo at $api: $(failure_reason $?)"
    tag=$(printf '%s' "$json" | release_list | awk '$2 == "true" { print $1; exit }')
    [ -n "$tag" ] || die "$repo has no prerelease (among its newest 100 releases)"
  else
    json=$(fetch_api "$api/latest") ||
      die "cannot find the latest release of $repo at $api/latest: $(failure_reason $?)"
    tag=$(printf '%s' "$json" | release_list | awk 'NR == 1 { print $1 }')
    [ -n "$tag" ] || die "the releases API answered $api/latest with no release"
  fi
}

sha256_of() {
  if [ "$hasher" = sha256sum ]; then
    sha256sum "$1" | awk '{ print $1 }'
  else
    shasum -a 256 "$1" | awk '{ print $1 }'
  fi
}

# Advice for a directory that is not on PATH, for the user's shell.
path_advice() {
  say "$prefix is not on your PATH; add it with:"
  line="export PATH=\"$prefix:\$PATH\""
  shell_name=${SHELL:-sh}
  case "${shell_name##*/}" in
    fish) rc="" ;;
    zsh) rc="${HOME:-~}/.zshrc" ;;
    bash) if [ "$os" = darwin ]; then rc="${HOME:-~}/.bash_profile"; else rc="${HOME:-~}/.bashrc"; fi ;;
    *) rc="${HOME:-~}/.profile" ;;
  esac
  if [ -z "$rc" ]; then
    printf '  fish_add_path %s\n' "$prefix"
  else
    printf "  echo '%s' >> %s\n" "$line" "$rc"
  fi
  say "then open a new terminal (or run that export line in this one)"
}

main() {
  parse_args "$@"
  detect_platform
  find_repository
  pick_tools
  resolve_tag
  binary_url="$download_base/$tag/$asset"
  sums_url="$download_base/$tag/SHA256SUMS"
  target="$prefix/tunnel"

  if [ "$dry_run" = 1 ]; then
    say "dry run: nothing is downloaded or changed"
    say "would download $binary_url"
    say "would check it against $sums_url"
    say "would install tunnel $tag ($os-$arch) to $target"
    exit 0
  fi

  staged=""
  tmp=$(mktemp -d 2>/dev/null || mktemp -d -t tunnel-install)
  trap 'rm -rf "$tmp"; [ -z "$staged" ] || rm -f "$staged"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP

  say "downloading tunnel $tag ($os-$arch) from $binary_url"
  fetch_file "$binary_url" "$tmp/$asset" ||
    die "cannot download $binary_url: $(failure_reason $?); nothing installed"
  fetch_file "$sums_url" "$tmp/SHA256SUMS" ||
    die "cannot download $sums_url: $(failure_reason $?); nothing installed"
  expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print tolower($1); exit }' \
    "$tmp/SHA256SUMS")
  [ -n "$expected" ] || die "SHA256SUMS of $tag has no line for $asset; nothing installed"
  actual=$(sha256_of "$tmp/$asset")
  [ "$actual" = "$expected" ] ||
    die "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; nothing installed"

  mkdir -p "$prefix" 2>/dev/null || die "cannot create $prefix: choose another with --prefix DIR"
  [ -w "$prefix" ] || die "cannot write to $prefix: choose another with --prefix DIR"
  # Staged beside the target, so the final mv is a rename within one file system:
  # a running or concurrent `tunnel` sees the old binary or the new one, never half.
  staged="$prefix/.tunnel.install.$$"
  cp "$tmp/$asset" "$staged"
  chmod 755 "$staged"
  mv -f "$staged" "$target"
  staged=""
  say "installed tunnel $tag ($os-$arch) to $target (SHA-256 checked)"
  case ":${PATH:-}:" in
    *":$prefix:"*) ;;
    *) path_advice ;;
  esac
}

# Everything runs from here, so a download cut short cannot run half a script.
main "$@"
