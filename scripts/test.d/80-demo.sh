#!/usr/bin/env bash
# The demo (`make demo`), so the README's first command never rots: every example and the CLI
# must run against the local OpenID provider. Setup already ran (scripts/test.sh); the builds
# reuse what earlier suites left in target/ and the Go build cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
RAPTOKEN_DEMO_SKIP_SETUP=1 timeout 600 bash scripts/demo.sh
