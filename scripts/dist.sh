#!/usr/bin/env bash
# `make dist`: the release artifacts in target/dist/, from a release build of this checkout.
#   raptoken-<version>-<rust target>.tar.gz  lib/ (.so with SONAME links, .a without debug info
#                                             or embedded bitcode), include/, lib/pkgconfig/,
#                                             lib/cmake/raptoken/, bin/raptoken, LICENSE, README.md
#   raptoken-go/                              the Go module github.com/rapidata/raptoken-go
#   goproxy/                                  that module version as a GOPROXY=file:// directory
#   Rapidata.Raptoken.<version>.nupkg         the NuGet package (Debian's nuget on Mono)
#   SHA256SUMS                                of the archive, the module zip and the package
# The version is Cargo.toml's, everywhere. Everything is made in target/dist.new and renamed to
# target/dist at the end: target/dist is never half-written. Tested by scripts/test.d/60-dist.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
target=$(rustc -vV | sed -n 's/^host: //p')
[ -n "$version" ] && [ -n "$target" ] || { echo "dist: cannot read the version or the Rust target"; exit 1; }
# Timestamps in the archive and the Go module: the last commit's (reproducible), else now. Not
# exported: cargo rebuilds ring (cc-rs reads SOURCE_DATE_EPOCH) whenever it changes.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

bash scripts/build.sh --bin raptoken

work=$root/target/dist-work
new=$root/target/dist.new
rm -rf "$work" "$new"
mkdir -p "$work" "$new"

# The libraries, once: the .so stripped (its exported symbols stay in .dynsym), the .a without
# debug info and without the LLVM bitcode rustc embeds for LTO. The .a of the regular build is not
# LTO'd (the crate also builds an rlib, for the CLI and the tests): one built as a staticlib alone
# is, one object with only what the C ABI reaches (50 MB -> 6 MB stripped, against 16.5 MB).
# Cargo keeps both builds apart, so the next regular build just puts its own .a back.
strip --strip-all -o "$work/libraptoken.so" target/release/libraptoken.so
cargo rustc --locked --release --lib --crate-type staticlib --features fleet
strip --strip-debug --remove-section=.llvmbc --remove-section=.llvmcmd -o "$work/libraptoken.a" target/release/libraptoken.a
bash scripts/build.sh
strip --strip-all -o "$work/raptoken" target/release/raptoken
if readelf -d "$work/libraptoken.so" | grep -qE 'R(UN)?PATH'; then
  echo "dist: libraptoken.so carries an RPATH/RUNPATH"; exit 1
fi

echo "--- release archive"
name=raptoken-$version-$target
stage=$work/stage/$name
bash scripts/install.sh "$stage" >/dev/null
install -m 0755 "$work/libraptoken.so" "$stage/lib/libraptoken.so.$version"
install -m 0644 "$work/libraptoken.a" "$stage/lib/libraptoken.a"
install -d "$stage/bin"
install -m 0755 "$work/raptoken" "$stage/bin/raptoken"
install -m 0644 LICENSE "$stage/LICENSE"
soname=$(readelf -d "$stage/lib/libraptoken.so.$version" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
sed -e "s|@VERSION@|$version|g" -e "s|@TARGET@|$target|g" -e "s|@SONAME@|$soname|g" \
  scripts/dist/archive-README.md >"$stage/README.md"
# No file may name the directory it was staged in (or this checkout): the tree is relocatable.
if grep -rlF -e "$work" -e "$root" "$stage"; then
  echo "dist: the files above contain an absolute build path"; exit 1
fi
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=gnu \
  -C "$work/stage" -cf - "$name" | gzip -9n >"$new/$name.tar.gz"

echo "--- Go module"
SOURCE_DATE_EPOCH=$epoch bash scripts/dist/go-module.sh "$version" "$work/libraptoken.a" "$new/raptoken-go" "$new/goproxy"

echo "--- NuGet package"
bash scripts/dist/nuget.sh "$version" "$work/libraptoken.so" "$work/nuget" "$new"

(cd "$new" && sha256sum "$name.tar.gz" "Rapidata.Raptoken.$version.nupkg" \
  "goproxy/github.com/rapidata/raptoken-go/@v/v$version.zip" >SHA256SUMS)
sync "$new"/* 2>/dev/null || sync
rm -rf "$root/target/dist"
mv "$new" "$root/target/dist"

echo "--- target/dist (raptoken $version, $target)"
size() { printf '  %-62s %6s KB\n' "$1" "$(( $(stat -c %s "$2") / 1024 ))"; }
size "$name.tar.gz" "target/dist/$name.tar.gz"
size "Rapidata.Raptoken.$version.nupkg" "target/dist/Rapidata.Raptoken.$version.nupkg"
size "goproxy/.../v$version.zip (Go module)" "target/dist/goproxy/github.com/rapidata/raptoken-go/@v/v$version.zip"
size "libraptoken.a (unstripped -> in the archive and the Go module)" target/release/libraptoken.a
size "" "$work/libraptoken.a"
size "libraptoken.so (unstripped -> in the archive and the package)" target/release/libraptoken.so
size "" "$work/libraptoken.so"
