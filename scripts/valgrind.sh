#!/usr/bin/env bash
# npm run test:valgrind: Valgrind memcheck over test/fixtures/entry-points.cjs,
# which drives every native entry point on every path (success, kernel
# failures, bad arguments, load and unload in worker threads). Fails on any
# definite or indirect leak, or any memory error, with a frame in the addon.
# Node's own allocations at exit are not ours to judge and are not counted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v valgrind >/dev/null || {
  echo "test:valgrind: valgrind is not installed (apt-get install -y valgrind)" >&2
  exit 2
}
npm run --silent compile
log=$(mktemp "${TMPDIR:-/tmp}/tcp-keepalive-valgrind.XXXXXX")
trap 'rm -f "$log"' EXIT

valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
  --num-callers=40 --log-file="$log" node test/fixtures/entry-points.cjs

grep -E 'definitely lost:|indirectly lost:|ERROR SUMMARY' "$log" | sed 's/^==[0-9]*== /  /'
# Each error or loss record is a block of lines separated by a blank "==pid== ".
ours=$(awk '/^==[0-9]+== $/ { if (block ~ /tcp_keepalive\.node/) n++; block = ""; next } { block = block "\n" $0 }
            END { if (block ~ /tcp_keepalive\.node/) n++; print n + 0 }' "$log")
if [ "$ours" -ne 0 ]; then
  echo "test:valgrind: $ours error or leak record(s) with a frame in tcp_keepalive.node:" >&2
  cat "$log" >&2
  exit 1
fi
echo "test:valgrind: no leak and no memory error in the addon"
