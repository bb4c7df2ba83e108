#!/usr/bin/env bash
# Run by scripts/install.sh with PREFIX, VERSION and NATIVE_STATIC_LIBS set: writes the
# pkg-config files into PREFIX/lib/pkgconfig. Both are relocatable (prefix=${pcfiledir}/../..),
# so the same files serve `make install` and the release archive, wherever it is extracted.
#   raptoken.pc         the shared library, with an rpath to the directory it is in; with
#                       --static, Libs.private adds exactly rustc's native-static-libs
#   raptoken-static.pc  libraptoken.a plus those libraries: the program carries the library
#                       and needs no libraptoken.so at run time. (A second module because
#                       `pkg-config --static raptoken` still says -lraptoken, and with both files
#                       in lib/ the linker takes the .so.)
set -euo pipefail
: "${PREFIX:?}" "${VERSION:?}" "${NATIVE_STATIC_LIBS:?}"
dir="$PREFIX/lib/pkgconfig"
install -d "$dir"
# write NAME: the text on stdin, to a temp file first, then renamed into place.
write() {
  local tmp
  tmp=$(mktemp "$dir/.$1.XXXXXX")
  cat >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$dir/$1"
}
header='# Relocatable: every path is relative to the directory of this file.
prefix=${pcfiledir}/../..
libdir=${prefix}/lib
includedir=${prefix}/include
'
write raptoken.pc <<PC
$header
Name: raptoken
Description: OAuth 2.0 client-credentials tokens for the Rapidata API
Version: $VERSION
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lraptoken
Libs.private: $NATIVE_STATIC_LIBS
Cflags: -I\${includedir}
PC
write raptoken-static.pc <<PC
$header
Name: raptoken-static
Description: OAuth 2.0 client-credentials tokens for the Rapidata API (static library)
Version: $VERSION
Libs: \${libdir}/libraptoken.a $NATIVE_STATIC_LIBS
Cflags: -I\${includedir}
PC
