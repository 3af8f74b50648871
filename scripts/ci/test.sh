#!/usr/bin/env bash
# The suite, as every CI runner runs it (Linux x64 and arm64 in a Debian
# container, macOS arm64 and x64, Windows): `npm ci`, whose install step
# builds the addon from source (Linux, macOS; on Windows it builds nothing:
# the library takes Node's own setKeepAlive there), then `npm test` with
# TCP_KEEPALIVE_NO_SKIP=1, so that a missing tool fails the run instead of
# skipping. What a platform cannot run at all skips, saying why
# (test/helpers.ts: linuxOnly, linuxX64Only, notOnWindows).
#
#   usage: scripts/ci/test.sh [vitest arguments: a few test files, say]
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "== node $(node --version), npm $(npm --version), $(uname -srm)"
npm ci --no-audit --no-fund
TCP_KEEPALIVE_NO_SKIP=1 npm test -- "$@"
