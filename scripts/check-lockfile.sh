#!/usr/bin/env bash
# Fails when package-lock.json is not what `npm install` makes of package.json
# (say, a dependency or peer dependency added without committing the lockfile
# npm wrote). `npm ci` does not catch every such drift; a fresh clone's
# `npm install` would then rewrite the committed lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp package.json package-lock.json "$work/"
# Only the lockfile is computed: nothing is installed, no script runs.
(cd "$work" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error)

if ! diff -u package-lock.json "$work/package-lock.json"; then
  echo "package-lock.json is out of date: run npm install and commit the package-lock.json it writes." >&2
  exit 1
fi
echo "package-lock.json is in sync with package.json"
