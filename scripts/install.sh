#!/usr/bin/env bash
# Installs libraptoken into a prefix the way a distribution package would:
#   lib/libraptoken.so.X.Y.Z (+ SONAME and dev symlinks), lib/libraptoken.a,
#   include/raptoken.h, and what scripts/install.d/ adds: the pkg-config files
#   (lib/pkgconfig/raptoken.pc, raptoken-static.pc) and the CMake package (lib/cmake/raptoken/).
# Everything it writes is relocatable: `make dist` stages the release archive with it.
# Usage: scripts/install.sh PREFIX
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:?usage: install.sh PREFIX}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
cd "$root"

bash scripts/build.sh
version=$(sed -n 's/^#define RAPTOKEN_VERSION "\(.*\)"/\1/p' include/raptoken.h)
soname=$(readelf -d target/release/libraptoken.so | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ -n "$version" ] && [ -n "$soname" ] || { echo "install: cannot read version/SONAME"; exit 1; }
native_static_libs=$(bash scripts/native-static-libs.sh)

libdir="$prefix/lib"; incdir="$prefix/include"
install -d "$libdir" "$incdir"
install -m 0755 target/release/libraptoken.so "$libdir/libraptoken.so.$version"
ln -sfn "libraptoken.so.$version" "$libdir/$soname"
ln -sfn "$soname" "$libdir/libraptoken.so"
install -m 0644 target/release/libraptoken.a "$libdir/libraptoken.a"
install -m 0644 include/raptoken.h "$incdir/raptoken.h"

for f in scripts/install.d/*.sh; do
  [ -e "$f" ] && PREFIX="$prefix" VERSION="$version" SONAME="$soname" NATIVE_STATIC_LIBS="$native_static_libs" bash "$f"
done
echo "installed raptoken $version into $prefix"
