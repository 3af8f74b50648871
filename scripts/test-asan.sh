#!/usr/bin/env bash
# npm run test:asan: builds the addon with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs the test suite against it. Any report
# fails the run. Works on a copy of the package, so the normal build in
# build/ is left alone.
#
# Node itself is not instrumented, so the ASan runtime is preloaded; leak
# checking is off here (Node does not free everything at exit, and that is
# not ours to report): scripts/valgrind.sh checks the addon for leaks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tcp-keepalive-asan.XXXXXX")
trap 'rm -rf "$work"' EXIT

for entry in package.json README.md docs binding.gyp src lib test bench scripts tsconfig.json tsconfig.build.json vitest.config.mts; do
  cp -r "$root/$entry" "$work/"
done
ln -s "$root/node_modules" "$work/node_modules"
cd "$work"
# Before the sanitized build: the bundle step loads the modules (and so the
# addon) in a plain node, where a sanitized addon could not load.
npm run --silent compile

sanitize='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g'
echo "== building the addon with $sanitize"
CXXFLAGS="$sanitize" LDFLAGS="-fsanitize=address,undefined" npx node-gyp rebuild >build.log 2>&1 || {
  cat build.log
  exit 1
}
# grep -c reads all of nm's output: with -q, nm could die of SIGPIPE and
# pipefail would call a sanitized build unsanitized.
if [ "$(nm -D build/Release/tcp_keepalive.node | grep -c __asan_)" -eq 0 ]; then
  echo "test:asan: the addon was built without AddressSanitizer" >&2
  exit 1
fi

reports="$work/reports"
mkdir "$reports"
export LD_PRELOAD
LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
if [ ! -e "$LD_PRELOAD" ]; then
  echo "test:asan: gcc has no AddressSanitizer runtime (Debian: apt-get install libasan8 libubsan1)" >&2
  exit 2
fi
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"

echo "== running the tests against the sanitized addon"
# Three tests never load the sanitized addon: the package test builds a
# prebuild of its own, the fallback test builds the addon for a platform
# without a port (and runs it in other Nodes), and Deno does not load the
# addon. Everything else runs, Bun's smoke suite too (Bun runs with the
# sanitizer runtime preloaded, on the sanitized addon).
status=0
npx vitest run --exclude test/package.test.ts --exclude test/fallback.test.ts --exclude test/deno.test.ts || status=$?

if compgen -G "$reports/*" >/dev/null; then
  echo "test:asan: sanitizer reports:" >&2
  cat "$reports"/* >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "test:asan: the tests failed under the sanitizers" >&2
  exit "$status"
fi
echo "test:asan: no AddressSanitizer or UndefinedBehaviorSanitizer reports"
