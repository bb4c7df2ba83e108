#!/usr/bin/env bash
# Rust: unit tests, integration tests against the real OIDC provider, and the header drift check.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build.sh
# build.rs regenerates include/raptoken.h; a difference from the committed file is drift.
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- include/raptoken.h; then
  echo "include/raptoken.h differs from the committed header (ABI drift): commit the regenerated file"
  git --no-pager diff --stat -- include/raptoken.h
  exit 1
fi
# The full 20-second stress run belongs to suite 15-faults (with its secret scan); here it is a
# short smoke run so the same minutes are not spent twice.
RAPTOKEN_STRESS_SECS=${RAPTOKEN_STRESS_SECS:-3} cargo test --locked 2>&1
