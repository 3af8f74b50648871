#!/usr/bin/env bash
# Publishes the tarball the release's pack job made and checked, exactly that
# file: nothing is built or packed again. Given a folder, it takes the one
# .tgz in it (the pack job's artifact). --provenance has npm sign, with the
# job's GitHub OIDC token (permissions: id-token: write), a statement that
# this workflow run built it; NODE_AUTH_TOKEN (an npm automation token, the
# repository secret NPM_TOKEN) is what actions/setup-node's registry-url
# writes into .npmrc. Further arguments go to npm publish (--dry-run, say).
#   usage: scripts/ci/publish.sh <package.tgz or a folder holding one> [npm publish arguments]
set -euo pipefail
tarball=${1:?usage: scripts/ci/publish.sh <package.tgz or a folder holding one> [npm publish arguments]}
shift
if [ -d "$tarball" ]; then
  shopt -s nullglob
  found=("$tarball"/*.tgz)
  [ ${#found[@]} -eq 1 ] || { echo "publish: $tarball holds ${#found[@]} tarballs (${found[*]}), not one" >&2; exit 1; }
  tarball=${found[0]}
fi
[ -f "$tarball" ] || { echo "publish: $tarball is no file" >&2; exit 1; }
# What is about to go out, in the log: the name and version inside the tarball.
tar -xOzf "$tarball" package/package.json | node -e '
  const p = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  console.log(`publish: ${p.name}@${p.version} from ${process.argv[1]}`);' "$tarball"
npm publish --provenance --access public "$tarball" "$@"
