#!/usr/bin/env bash
# Packs the package once, as a release does, into the given folder and checks
# the tarball (scripts/check-tarball.cjs: every prebuild present, none newer
# than Node's own floor). package.json "prepack" builds the Linux prebuilds
# (x64 and arm64, glibc and musl) and loads each before it is kept; a
# release's macOS prebuilds, built on the macOS runners, are put in
# prebuilds/ before this runs and named with --also.
#
#   usage: scripts/pack-release.sh <destination folder> [--also darwin-arm64,darwin-x64]
#   prints the tarball's path last.
set -euo pipefail
dest=${1:?usage: scripts/pack-release.sh <destination folder> [--also <os-arch>,...]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
cd "$root"

# prepack's build output shares stdout with npm's JSON, which comes last.
out=$(npm pack --json --pack-destination "$dest")
filename=$(printf '%s\n' "$out" | node -e '
  const out = require("node:fs").readFileSync(0, "utf8");
  const packed = JSON.parse(out.slice(out.lastIndexOf("\n[\n") + 1));
  if (packed.length !== 1 || packed[0].name !== "tcp-keepalive") throw new Error(`npm pack packed ${JSON.stringify(packed.map((p) => p.name))}`);
  console.log(packed[0].filename);')
tarball="$dest/$filename"
[ -f "$tarball" ] || { echo "pack-release: npm pack named $filename, which is not in $dest" >&2; exit 1; }
node scripts/check-tarball.cjs "$tarball" "$@"
echo "$tarball"
