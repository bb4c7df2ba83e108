#!/usr/bin/env bash
# `make dist` and its test suite (scripts/test.d/60-dist.sh): Debian's nuget (packs and installs
# the .nupkg on Mono), xbuild (builds the test's app the way a packages.config project imports
# the package), unzip (listings), binutils (strip, readelf); and golang.org/x/mod for the tool
# that zips the Go module (scripts/dist/gomodzip, pinned by its go.sum). Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bash "$root/scripts/apt-ensure.sh" dist nuget mono-xbuild unzip binutils
(cd "$root/scripts/dist/gomodzip" && go mod download && go mod verify >/dev/null)
