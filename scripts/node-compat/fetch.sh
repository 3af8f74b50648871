#!/usr/bin/env bash
# Fetches Node's own test tree (test/common, test/fixtures, test/parallel,
# test/sequential) from Debian's `nodejs` source package, once, into a cache,
# and prints the folder that holds test/. Debian's trixie suite carries Node
# 20.19 (the line CI runs first); only its .orig.tar.xz is served here (the
# .dsc and .debian.tar.xz answer 404), so apt-get's exit status is not the
# verdict: the tarball is.
#
#   usage: scripts/node-compat/fetch.sh
#   cache: $TCP_KEEPALIVE_CACHE (default ~/.cache/tcp-keepalive)
set -euo pipefail
cache=${TCP_KEEPALIVE_CACHE:-$HOME/.cache/tcp-keepalive}
dir="$cache/nodejs-tests-trixie"
if [ ! -f "$dir/.complete" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/tcp-keepalive-nodejs-src.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # A private apt configuration: the host's sources and state are not touched.
  mkdir -p "$work/sources" "$work/state/lists/partial" "$work/cache/archives/partial"
  cat >"$work/sources/nodejs.sources" <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/sources" -o "Dir::State=$work/state" -o "Dir::Cache=$work/cache")
  echo "node-compat: fetching Debian's nodejs source (trixie)" >&2
  apt-get "${apt[@]}" update -qq >&2
  (cd "$work" && apt-get "${apt[@]}" source --download-only nodejs >&2) || true
  tarball=$(ls "$work"/nodejs_*.orig.tar.xz 2>/dev/null | head -n 1)
  [ -n "$tarball" ] || { echo "node-compat: Debian served no nodejs .orig.tar.xz" >&2; exit 1; }
  mkdir -p "$work/tree"
  tar -xJf "$tarball" -C "$work/tree" --strip-components=1 --wildcards \
    '*/test/common/*' '*/test/fixtures/*' '*/test/parallel/*' '*/test/sequential/*' '*/src/node_version.h'
  version=$(awk '/define NODE_(MAJOR|MINOR|PATCH)_VERSION/ { v = v (v ? "." : "") $3 } END { print v }' "$work/tree/src/node_version.h")
  echo "$version" >"$work/tree/VERSION"
  touch "$work/tree/.complete"
  rm -rf "$dir"
  mkdir -p "$cache"
  mv "$work/tree" "$dir"
fi
echo "$dir"
