#!/usr/bin/env bash
# Builds this machine's own prebuild with prebuildify, for one architecture,
# which must be this machine's, and keeps it only once it loaded and
# round-tripped all five options here (scripts/load-check.cjs: python3 reads
# them back through the same fd). The release runs it on each macOS runner,
# where nothing else can load a macOS binary:
#   macos-14 (arm64): prebuildify --napi --strip --arch arm64
#   macos-13 (x64):   prebuildify --napi --strip --arch x64
# each with --target set to the running Node's version, so node-gyp builds
# against the headers of the Node that then loads it (without it,
# prebuildify --napi takes the newest Node that node-abi knows). The oldest
# macOS the binary runs on is binding.gyp's MACOSX_DEPLOYMENT_TARGET, which
# scripts/check-tarball.cjs checks at the release's pack. On Linux it builds
# the glibc prebuild as `npm run prebuild` does (with --tag-libc), which is
# how it is checked on the development machine (there with
# npm_config_nodedir=/usr: node-gyp cannot download headers on it).
#
# The build runs in a copy (package.json, binding.gyp, src/), so this clone's
# build/ is left alone and the load check finds no build/ beside the
# prebuild; the prebuild is then copied into prebuilds/<os>-<arch>/.
#
#   usage: scripts/ci/prebuild-native.sh <arm64|x64>
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
arch=${1:?usage: scripts/ci/prebuild-native.sh <arm64|x64>}
here=$(node -p process.arch)
[ "$arch" = "$here" ] || { echo "prebuild-native: asked for $arch on a $here machine, where it could not be loaded before it ships" >&2; exit 1; }
platform="$(node -p process.platform)-$arch"
flags=(--napi --strip --arch "$arch" --target "$(node -p process.versions.node)")
[ "$(uname -s)" != Linux ] || flags+=(--tag-libc)
cd "$root"
[ -x node_modules/.bin/prebuildify ] || npm ci --ignore-scripts --no-audit --no-fund

work=$(mktemp -d "${TMPDIR:-/tmp}/tcp-keepalive-prebuild.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R package.json binding.gyp src "$work/"
ln -s "$root/node_modules" "$work/node_modules"
echo "== prebuildify ${flags[*]} with Node $(node --version) on $(uname -sm): scripts/ci/prebuild-native.sh"
(cd "$work" && node_modules/.bin/prebuildify "${flags[@]}")
rm -rf "$work/build" # the load check must find the prebuild, not the build
node scripts/load-check.cjs "$work"

mkdir -p "prebuilds/$platform"
cp "$work/prebuilds/$platform/"*.node "prebuilds/$platform/"
ls -l "prebuilds/$platform/"
