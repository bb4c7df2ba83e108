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
cargo test --locked 2>&1
