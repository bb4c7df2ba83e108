#!/usr/bin/env bash
# Builds libraptoken (release) and adds the SONAME link next to it, so programs linked against
# target/release/libraptoken.so find `libraptoken.so.X.Y` there at run time (rpath or
# LD_LIBRARY_PATH) exactly as they would in an installed prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --release --lib "$@"
soname=$(readelf -d target/release/libraptoken.so | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
ln -sfn libraptoken.so "target/release/$soname"
