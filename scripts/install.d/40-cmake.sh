#!/usr/bin/env bash
# Run by scripts/install.sh with PREFIX, VERSION, SONAME and NATIVE_STATIC_LIBS set: installs
# the C++ header (include/raptoken.hpp) and the CMake package (lib/cmake/raptoken/), so that
# find_package(raptoken CONFIG REQUIRED) gives raptoken::raptoken, raptoken::static and
# raptoken::cpp.
set -euo pipefail
: "${PREFIX:?}" "${VERSION:?}" "${SONAME:?}" "${NATIVE_STATIC_LIBS:?}"
root=$(cd "$(dirname "$0")/../.." && pwd)
src="$root/bindings/cpp"
pkgdir="$PREFIX/lib/cmake/raptoken"
install -d "$PREFIX/include" "$pkgdir"
install -m 0644 "$src/include/raptoken.hpp" "$PREFIX/include/raptoken.hpp"

sizeof_void_p=$(( $(getconf LONG_BIT) / 8 ))
# A CMake list: "-lgcc_s -lutil" -> "-lgcc_s;-lutil".
native_libs_list=$(tr -s ' ' ';' <<<"$NATIVE_STATIC_LIBS")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in raptokenConfig.cmake raptokenConfigVersion.cmake; do
  sed -e "s|@VERSION@|$VERSION|g" -e "s|@SONAME@|$SONAME|g" -e "s|@SIZEOF_VOID_P@|$sizeof_void_p|g" \
    -e "s|@NATIVE_STATIC_LIBS_LIST@|$native_libs_list|g" \
    "$src/cmake/$f.in" >"$tmp/$f"
  if grep -q '@[A-Z_]*@' "$tmp/$f"; then
    echo "40-cmake: unsubstituted placeholder in $f" >&2
    exit 1
  fi
  install -m 0644 "$tmp/$f" "$pkgdir/$f"
done
