#!/usr/bin/env bash
# Builds libraptoken (release) and adds the SONAME link next to it, so programs linked against
# target/release/libraptoken.so find `libraptoken.so.X.Y` there at run time (rpath or
# LD_LIBRARY_PATH) exactly as they would in an installed prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
# With the fleet cache (Redis/Valkey, the cargo feature `fleet`): what releases and the bindings
# ship. Every script builds through this one (extra arguments, e.g. `--bin raptoken`, are passed
# to cargo), so the features are named once and cargo never rebuilds for a switch.
cargo build --locked --release --features fleet --lib "$@"
soname=$(readelf -d target/release/libraptoken.so | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
ln -sfn libraptoken.so "target/release/$soname"
