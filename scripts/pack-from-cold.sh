#!/usr/bin/env bash
# Packs as a new maintainer or a release runner does: a fresh clone of HEAD,
# `npm ci`, and an empty toolchain cache (TCP_KEEPALIVE_CACHE), so every
# toolchain prepack needs (zig, Node for arm64, Bun for musl) is fetched by
# the nested `npm pack <spec>` of scripts/runtime.sh while the outer npm's
# flags are in force. First `npm pack --dry-run --json --pack-destination`:
# JSON naming this package and nothing written; then scripts/pack-release.sh
# (--json --pack-destination, and the tarball checked): exactly one tarball,
# ours, in the destination.
#
#   usage: scripts/pack-from-cold.sh [folder to keep the tarball in]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tcp-keepalive-cold.XXXXXX")
trap 'rm -rf "$work"' EXIT
keep=${1:-}

echo "== pack from cold: a fresh clone of $(git -C "$root" rev-parse --short HEAD), npm ci, an empty toolchain cache: scripts/pack-from-cold.sh"
start=$SECONDS
git clone --quiet --no-local "$root" "$work/clone"
cd "$work/clone"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
export TCP_KEEPALIVE_CACHE="$work/cache"
dest="$work/out"
mkdir -p "$dest"

out=$(npm pack --dry-run --json --pack-destination "$dest")
name=$(printf '%s\n' "$out" | node -e '
  const out = require("node:fs").readFileSync(0, "utf8");
  const packed = JSON.parse(out.slice(out.lastIndexOf("\n[\n") + 1));
  console.log(packed.map((p) => p.name).join(" "));')
[ "$name" = tcp-keepalive ] || { echo "pack-from-cold: npm pack --dry-run --json described '$name', not tcp-keepalive" >&2; exit 1; }
[ -z "$(ls -A "$dest")" ] || { echo "pack-from-cold: npm pack --dry-run wrote into $dest: $(ls "$dest")" >&2; exit 1; }
[ -z "$(ls -- *.tgz 2>/dev/null)" ] || { echo "pack-from-cold: npm pack --dry-run left $(ls -- *.tgz) in the clone" >&2; exit 1; }
echo "pack-from-cold: --dry-run --json: described tcp-keepalive, wrote nothing ($((SECONDS - start)) s so far)"

tarball=$(bash scripts/pack-release.sh "$dest" | tail -n 1)
files=$(ls -A "$dest")
[ "$files" = "$(basename "$tarball")" ] || { echo "pack-from-cold: $dest holds '$files', not only $(basename "$tarball")" >&2; exit 1; }
echo "pack-from-cold: --json --pack-destination: $dest holds only $(basename "$tarball"), checked; $((SECONDS - start)) s in all"
if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$tarball" "$keep/"; fi
