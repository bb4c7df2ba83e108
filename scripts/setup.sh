#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently: a second run does nothing.
# Used by `make test`, `make demo` and CI on a fresh machine (root, package registries only).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# Debian packages (apt-ensure.sh touches apt only when something is missing).
# libclang-rt-14-dev holds clang's sanitizer runtimes (only "recommended" by clang on Debian 12).
pkgs=(valgrind pkg-config cmake ninja-build g++ libgtest-dev clang libclang-rt-14-dev mono-mcs mono-runtime
      nunit-console libnunit-cil-dev openssl curl python3 jq)
bash "$root/scripts/apt-ensure.sh" base "${pkgs[@]}"

# The test authorization server (oidc-provider) and its lockfile-pinned dependencies.
if [ -x "$root/testing/oidc-server/install-deps.sh" ]; then
  "$root/testing/oidc-server/install-deps.sh"
fi

# Extra setup steps contributed by components (Go modules, ...), in name order.
for f in "$root"/scripts/setup.d/*.sh; do
  [ -e "$f" ] && bash "$f"
done
exit 0
