#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, when they are missing:
# ss and ip (iproute2), unshare (util-linux), python3 (an independent reader
# of socket options), openssl (test certificates), strace (syscall counts). Needs root (or sudo).
set -euo pipefail

declare -A provides=(
  [ss]=iproute2
  [ip]=iproute2
  [unshare]=util-linux
  [python3]=python3
  [openssl]=openssl
  [strace]=strace
)

missing=()
for tool in "${!provides[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${provides[$tool]}")
done

if ((${#missing[@]} == 0)); then
  echo "test-deps: everything is installed"
  exit 0
fi

mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "test-deps: installing ${packages[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
