#!/bin/sh
# Installs, in a CI container, the few programs a job's scripts need that its
# image may lack: bash (node:*-alpine has only sh, so this file is POSIX sh),
# python3 (scripts/load-check.cjs and the tests read options back with it),
# openssl (test certificates), ss (iproute2) and strace. Only what is
# missing is installed, with the image's own package manager (apk on
# Alpine, dnf or microdnf on UBI, apt-get on Debian); on a machine that has
# them all (this one) it installs nothing.
#
#   usage: sh scripts/ci/container-deps.sh <program>...
set -eu
[ "$#" -gt 0 ] || { echo 'usage: sh scripts/ci/container-deps.sh <program>...' >&2; exit 2; }

if command -v apk >/dev/null 2>&1; then manager=apk
elif command -v dnf >/dev/null 2>&1; then manager=dnf
elif command -v microdnf >/dev/null 2>&1; then manager=microdnf
elif command -v apt-get >/dev/null 2>&1; then manager=apt-get
else manager=none
fi

packages=
for program in "$@"; do
  command -v "$program" >/dev/null 2>&1 && continue
  case "$program:$manager" in
    ss:apk | ss:apt-get) package=iproute2 ;;
    ss:*) package=iproute ;;
    bash:* | python3:* | openssl:* | strace:*) package=$program ;;
    *) echo "container-deps: no package known for $program" >&2; exit 2 ;;
  esac
  packages="$packages $package"
done

if [ -z "$packages" ]; then
  echo "container-deps: $* already here"
  exit 0
fi
[ "$manager" != none ] || { echo "container-deps: missing$packages, and no apk, dnf, microdnf or apt-get to install them" >&2; exit 1; }
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "container-deps: installing$packages with $manager"
# $packages is a list of words: split on purpose.
# shellcheck disable=SC2086
case "$manager" in
  apk) $sudo apk add --no-cache $packages ;;
  dnf | microdnf) $sudo "$manager" install -y $packages ;;
  apt-get) $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages ;;
esac
