#!/usr/bin/env bash
# Prints the system libraries a program linking target/release/libraptoken.a must also link:
# exactly what rustc's `--print native-static-libs` reports for raptoken and its dependencies
# (e.g. "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"). Run after scripts/build.sh.
#
# rustc prints that list only when it links a staticlib itself, and asking cargo for it would
# rebuild the library with other flags. So this links an empty staticlib that depends on the
# rlib cargo built next to libraptoken.a (same rustc, same dependency graph): no LTO, no
# recompilation, well under a second.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rel=${1:-$root/target/release}
[ -f "$rel/libraptoken.rlib" ] || { echo "native-static-libs: $rel/libraptoken.rlib missing; run scripts/build.sh" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 'extern crate raptoken;' >"$tmp/probe.rs"
out=$(rustc --edition 2021 --crate-type staticlib --crate-name raptoken_probe --print native-static-libs \
  -L "dependency=$rel/deps" --extern "raptoken=$rel/libraptoken.rlib" "$tmp/probe.rs" -o "$tmp/probe.a" 2>&1) ||
  { echo "$out" >&2; echo "native-static-libs: rustc failed" >&2; exit 1; }
libs=$(sed -n 's/^note: native-static-libs: //p' <<<"$out" | tail -n 1)
[ -n "$libs" ] || { echo "$out" >&2; echo "native-static-libs: rustc printed no list" >&2; exit 1; }
echo "$libs"
