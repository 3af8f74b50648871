#!/usr/bin/env bash
# The Linux prebuilds, made as npm pack's prepack makes them: this machine's
# linux-x64 glibc addon (npm run prebuild), linux-arm64 glibc (npm run
# prebuild:arm64: cross-built, kept only once it loaded in arm64 Node under
# qemu) and linux-x64 and linux-arm64 musl (npm run prebuild:musl: zig, each
# kept only once it loaded in Bun for musl). The first is then loaded here
# too (scripts/ci/load-check.sh), so no prebuild leaves unloaded. CI uploads
# prebuilds/ for the jobs that load them where this machine cannot: a real
# musl Node (node:*-alpine) and an old glibc (bullseye, UBI 8).
#
# Needs an x64 Linux host with the Debian packages of scripts/test-deps.sh
# (run scripts/ci/linux-deps.sh first).
#   usage: scripts/ci/prebuild-linux.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -sm)" = 'Linux x86_64' ] || { echo "prebuild-linux: the Linux prebuilds are made on x64 Linux (cross compiler, zig for x64), not $(uname -sm)" >&2; exit 1; }

npm ci --no-audit --no-fund
start=$SECONDS
npm run prebuild
npm run prebuild:arm64
npm run prebuild:musl
bash scripts/ci/load-check.sh prebuilds
echo "prebuild-linux: made and loaded in $((SECONDS - start)) s:"
find prebuilds -name '*.node' -exec ls -l {} +
