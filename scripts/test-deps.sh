#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, when they are missing.
# The same script serves CI (.ci/run) and local runs. Needs root (or sudo).
#   ss, ip       iproute2     keepalive timers, network namespaces for outages
#   unshare      util-linux   private user + network namespaces
#   nft          nftables     cutting only the way back in an outage (data in flight)
#   python3      python3      an independent reader of socket options
#   openssl      openssl      test certificates
#   strace       strace       syscall counts
#   redis-server redis-server Redis (and redis-cli) for the ioredis tests
#   initdb       postgresql   PostgreSQL for the pg tests
#   mariadbd     mariadb-server  MariaDB (the MySQL protocol) for the mysql2 tests
#   rabbitmq-server rabbitmq-server  RabbitMQ (and its epmd) for the amqplib tests
#   nats-server  nats-server  NATS for the nats tests
#   valgrind     valgrind     npm run test:valgrind
#   aarch64-linux-gnu-g++ g++-aarch64-linux-gnu  the linux-arm64 prebuild (cross)
#   qemu-aarch64 qemu-user    runs arm64 Node to test that prebuild
#   wine         wine         scripts/test-windows.sh (Node for Windows)
# and, checked by file rather than command:
#   /lib/ld-musl-x86_64.so.1   musl        the loader Bun for musl runs on (scripts/bun-musl.sh)
#   /lib/ld-musl-aarch64.so.1  musl:arm64  the same for arm64, under qemu (Debian multiarch:
#                                          the arm64 architecture is added first; musl:arm64
#                                          depends on no other arm64 package)
set -euo pipefail

declare -A provides=(
  [ss]=iproute2
  [ip]=iproute2
  [unshare]=util-linux
  [nft]=nftables
  [python3]=python3
  [openssl]=openssl
  [strace]=strace
  [redis-server]=redis-server
  [redis-cli]=redis-server
  [valgrind]=valgrind
  [aarch64-linux-gnu-g++]=g++-aarch64-linux-gnu
  [aarch64-linux-gnu-strip]=binutils-aarch64-linux-gnu
  [qemu-aarch64]=qemu-user
  [mariadbd]=mariadb-server
  [rabbitmq-server]=rabbitmq-server
  [epmd]=rabbitmq-server
  [nats-server]=nats-server
  [wine]=wine
)

arch=$(dpkg --print-architecture)
# On an arm64 machine (CI's ubuntu-24.04-arm) the aarch64-linux-gnu tools are
# its own compiler's and musl is its own architecture's; wine, the arm64
# multiarch and the x64 musl loader serve checks that run on x64 hosts (Node
# for Windows; the arm64 and musl prebuilds, which npm pack makes there).
[ "$arch" != arm64 ] || unset 'provides[wine]'

missing=()
for tool in "${!provides[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${provides[$tool]}")
done
# Debian keeps PostgreSQL's server programs off PATH.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ "$arch" = arm64 ]; then
  [ -e /lib/ld-musl-aarch64.so.1 ] || missing+=(musl)
else
  [ -e /lib/ld-musl-x86_64.so.1 ] || missing+=(musl)
  [ -e /lib/ld-musl-aarch64.so.1 ] || missing+=(musl:arm64)
fi

if ((${#missing[@]} == 0)); then
  echo "test-deps: everything is installed"
  exit 0
fi

mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "test-deps: installing ${packages[*]}"
if [[ " ${packages[*]} " == *:arm64* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  "${sudo[@]}" dpkg --add-architecture arm64
fi
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
