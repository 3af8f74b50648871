#!/usr/bin/env bash
# Loads the prebuild that fits this machine, from a prebuilds folder (CI's
# artifact of the Linux prebuild job, or this clone's prebuilds/), with
# scripts/load-check.cjs: node-gyp-build must choose it, and it must set all
# five options on a real loopback socket, read back by python3 and by the
# addon. It runs in a package folder that holds package.json and that
# prebuilds folder and nothing else: no build/ beside it, so the shipped
# binary is the only thing that can load.
#
# CI runs it where this machine cannot go: on an old glibc (node:20-bullseye,
# glibc 2.31; UBI 8, glibc 2.28, the floor of Node's own Linux binaries), to
# prove the glibc prebuild needs no newer glibc than Node does. Here it runs
# on the host.
#
#   usage: scripts/ci/load-check.sh <prebuilds folder>
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prebuilds=$(cd "${1:?usage: scripts/ci/load-check.sh <prebuilds folder>}" && pwd)

command -v python3 >/dev/null || { echo "load-check: python3 is missing: it reads the options back (sh scripts/ci/container-deps.sh python3)" >&2; exit 1; }
# load-check.cjs asks node-gyp-build (a devDependency) which file fits; no
# install step runs, so nothing is built.
[ -f "$root/node_modules/node-gyp-build/package.json" ] || (cd "$root" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

work=$(mktemp -d "${TMPDIR:-/tmp}/tcp-keepalive-load-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$root/package.json" "$work/"
cp -R "$prebuilds" "$work/prebuilds"
libc=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo 'not glibc')
echo "load-check: Node $(node --version) on $(uname -sm), $libc; prebuilds: $(cd "$work/prebuilds" && find . -name '*.node' | sort | paste -sd' ')"
node "$root/scripts/load-check.cjs" "$work"
