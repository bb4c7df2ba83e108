#!/usr/bin/env bash
# The bindings' generated parts (scripts/gen-bindings): what is committed equals what
# include/raptoken.h gives, and every function, enum value and struct field of the header reaches
# the Go, C++ and C# bindings (or is listed with its reason in scripts/gen-bindings). Then the
# generator's own tests, which add setters of every convention to a copy of the header and build
# what comes out with go vet, g++/clang++ and mcs.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 scripts/gen-bindings --check
python3 scripts/gen-bindings-test 2>&1
