#!/usr/bin/env bash
# The release's one pack: the macOS prebuilds the macOS runners built and
# loaded (scripts/ci/prebuild-native.sh) must already be in
# prebuilds/darwin-arm64/ and prebuilds/darwin-x64/; then
# scripts/pack-release.sh packs once (npm pack: prepack compiles dist/ and
# builds and loads the four Linux prebuilds) and checks the tarball with
# scripts/check-tarball.cjs, which fails if any expected prebuild is missing
# or any binary needs more than Node itself (glibc and libstdc++ versions,
# libraries, CPU, oldest macOS). Windows ships no prebuild: libuv holds a
# SOCKET there and `_handle.fd` is always -1, so the library uses Node's own
# setKeepAlive (lib/kernel/index.ts).
#
# In GitHub Actions (GITHUB_REF_NAME set) the tag must be v<package.json's
# version>. The tarball is the one .tgz in the destination folder
# (scripts/ci/publish.sh takes the folder).
#   usage: scripts/ci/release-pack.sh <destination folder>
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=${1:?usage: scripts/ci/release-pack.sh <destination folder>}
for platform in darwin-arm64 darwin-x64; do
  [ -f "prebuilds/$platform/tcp-keepalive.node" ] ||
    { echo "release-pack: prebuilds/$platform/tcp-keepalive.node is missing: the macOS jobs' artifacts go into prebuilds/ first" >&2; exit 1; }
done
tag=${GITHUB_REF_NAME:-}
version=$(node -p "require('./package.json').version")
if [ -n "$tag" ] && [ "$tag" != "v$version" ]; then
  echo "release-pack: the tag $tag is not v$version, the version in package.json" >&2
  exit 1
fi

npm ci --no-audit --no-fund
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/pack-release.sh "$dest" --also darwin-arm64,darwin-x64 | tee "$log"
tarball=$(tail -n 1 "$log")
[ -f "$tarball" ] || { echo "release-pack: scripts/pack-release.sh named '$tarball', which is no file" >&2; exit 1; }
echo "release-pack: $tarball packed once and checked"
