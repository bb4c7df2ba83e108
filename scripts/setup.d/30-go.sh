#!/usr/bin/env bash
# Go binding: checks the Go toolchain and downloads the modules bindings/go and examples/go need
# (golang.org/x/oauth2, pinned by go.sum) from the Go module proxy. Idempotent: with the module
# cache warm it does nothing but verify.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

if ! command -v go >/dev/null 2>&1; then
  echo "setup (go): 'go' not found; install Go 1.24 or newer" >&2
  exit 1
fi
# go.mod says go 1.24.0: an older toolchain would try to download a newer one, which fails here.
if ! go version | awk '{ split(substr($3, 3), v, "."); exit !(v[1] > 1 || (v[1] == 1 && v[2] >= 24)) }'; then
  echo "setup (go): $(go version) is too old; Go 1.24 or newer is needed" >&2
  exit 1
fi
for mod in bindings/go examples/go; do
  (cd "$root/$mod" && go mod download && go mod verify >/dev/null)
done
