#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently: a second run does nothing.
# Used by `make test`, `make demo` and CI on a fresh machine (root, package registries only).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# Debian packages: only touch apt when something is missing (apt-get update is slow).
# libclang-rt-14-dev holds clang's sanitizer runtimes (only "recommended" by clang on Debian 12).
pkgs=(valgrind pkg-config cmake ninja-build g++ libgtest-dev clang libclang-rt-14-dev mono-mcs mono-runtime
      nunit-console libnunit-cil-dev openssl curl python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  # With recommends: Mono's class libraries and clang's runtimes arrive that way, as on a workstation.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The test authorization server (oidc-provider) and its lockfile-pinned dependencies.
if [ -x "$root/testing/oidc-server/install-deps.sh" ]; then
  "$root/testing/oidc-server/install-deps.sh"
fi

# Extra setup steps contributed by components (Go modules, ...), in name order.
for f in "$root"/scripts/setup.d/*.sh; do
  [ -e "$f" ] && bash "$f"
done
exit 0
