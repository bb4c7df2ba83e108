#!/usr/bin/env bash
# Rust: unit tests, integration tests against the real OIDC provider, and the header drift check.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build.sh
# build.rs regenerates include/raptoken.h and, from the option table, the C setters, the text
# parser and the docs' configuration table; a difference from the committed files is drift.
generated=(include/raptoken.h src/ffi/options_gen.rs src/options/apply_gen.rs docs/configuration.md)
if git rev-parse --git-dir >/dev/null 2>&1 && [ -n "$(git status --porcelain -- "${generated[@]}")" ]; then
  echo "generated files differ from the committed ones (drift): build, then commit them"
  git --no-pager diff --stat -- "${generated[@]}"
  exit 1
fi
# The architecture: layers, arrows only downward, no cycle between siblings (ARCHITECTURE.md).
python3 scripts/check-layout
# The full 20-second stress run belongs to suite 15-faults (with its secret scan); here it is a
# short smoke run so the same minutes are not spent twice.
RAPTOKEN_STRESS_SECS=${RAPTOKEN_STRESS_SECS:-3} cargo test --locked --features fleet 2>&1
