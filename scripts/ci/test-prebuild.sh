#!/usr/bin/env bash
# The suite's addon tests against the prebuild that fits this machine, with
# no build/ anywhere: on CI's node:*-alpine job that is
# prebuilds/linux-x64/tcp-keepalive.musl.node, from the Linux prebuild job's
# artifact, in a real musl Node, which nothing else in CI or on the
# development machine can run (there, only Bun built for musl). Nothing is
# set to choose it: node-gyp-build and the library take musl where
# /etc/alpine-release exists.
#
#   1. build/ is removed, so `npm ci`'s install step finds only the
#      prebuild; it must record that it took it (install-result.json), not
#      that it built one;
#   2. scripts/load-check.cjs: node-gyp-build chooses the prebuild, and it
#      round-trips all five options, read back by python3;
#   3. with TCP_KEEPALIVE_NO_SKIP=1, the test files that exercise the addon
#      against the kernel and need only python3, openssl and ss: round trips,
#      targets, errors, validation, loading (workers, a forked child),
#      lifecycles, live state, the process-wide contract, property tests.
#      (The rest need Debian's servers and tools, or build or pack the addon;
#      they run in the Linux jobs.)
# Here (glibc) the same steps run against this machine's glibc prebuild.
#
#   usage: scripts/ci/test-prebuild.sh     (with prebuilds/ in place)
set -euo pipefail
cd "$(dirname "$0")/../.."
files=(test/set-get.test.ts test/targets.test.ts test/errors.test.ts test/validation.test.ts test/loading.test.ts
  test/lifecycles.test.ts test/socket-lifecycle.test.ts test/tcp-info.test.ts test/contract.test.ts
  test/invisible.test.ts test/properties.test.ts test/first-use.test.ts)

libc=$([ -e /etc/alpine-release ] && echo musl || echo glibc)
platform="linux-$(node -p process.arch)"
prebuild="prebuilds/$platform/tcp-keepalive.$libc.node"
[ -f "$prebuild" ] || { echo "test-prebuild: no $prebuild (download the Linux prebuild job's artifact into prebuilds/ first)" >&2; exit 1; }
echo "== the $libc prebuild in Node $(node --version) on $(uname -sm)$([ -e /etc/alpine-release ] && echo ", Alpine $(cat /etc/alpine-release)"): scripts/ci/test-prebuild.sh"

rm -rf build
npm ci --no-audit --no-fund
took=$(node -p "const r = require('./install-result.json'); r.result + ' ' + r.file")
[ "$took" = "prebuild $prebuild" ] || { echo "test-prebuild: the install step recorded '$took', not 'prebuild $prebuild'" >&2; cat install-result.json >&2; exit 1; }
[ ! -e build ] || { echo 'test-prebuild: the install step made build/' >&2; exit 1; }
echo "test-prebuild: npm ci's install step took $prebuild and built nothing"

node scripts/load-check.cjs .
TCP_KEEPALIVE_NO_SKIP=1 npm test -- "${files[@]}"
