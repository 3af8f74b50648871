#!/usr/bin/env bash
# Readies a Linux CI job for the suite or the prebuilds, then installs the
# Debian packages they use (scripts/test-deps.sh, as .ci/run does). CI runs
# the Linux jobs as root in a Debian bookworm container (what the suite and
# the prebuilds are proven on here; see docs/releasing.md), privileged where
# the suite makes network namespaces. Two kernel settings of the runner VM
# would stop the suite, and a privileged container may change them:
#   - Ubuntu 24.04 restricts unprivileged user namespaces with AppArmor
#     (kernel.apparmor_restrict_unprivileged_userns=1); the outage tests make
#     one per scenario (unshare --user --net).
#   - Docker may start a container with IPv6 off, ::1 included; the tests
#     and inspect's fixture listen on ::1.
# Where a setting is absent or already right (this machine), or /proc/sys is
# read-only (an unprivileged container), nothing is changed.
set -euo pipefail
cd "$(dirname "$0")/../.."

set_sysctl() { # file wanted why
  [ -e "$1" ] || return 0
  [ "$(cat "$1")" != "$2" ] || return 0
  if [ -w "$1" ] && echo "$2" >"$1" 2>/dev/null; then
    echo "linux-deps: $1 set to $2 ($3)"
  else
    echo "linux-deps: $1 is $(cat "$1") and cannot be changed here ($3)"
  fi
}
set_sysctl /proc/sys/kernel/apparmor_restrict_unprivileged_userns 0 'the outage tests make user namespaces'
set_sysctl /proc/sys/net/ipv6/conf/all/disable_ipv6 0 'the tests listen on ::1'
set_sysctl /proc/sys/net/ipv6/conf/lo/disable_ipv6 0 'the tests listen on ::1'

bash scripts/test-deps.sh
