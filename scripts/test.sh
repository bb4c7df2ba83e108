#!/usr/bin/env bash
# The project's test command (`make test`, and CI through .ci/run). Installs what it needs,
# then runs every suite in scripts/test.d/ in name order, each in its own language:
# Rust, C under valgrind, Go with -race, GoogleTest via ctest, NUnit on Mono, ...
# A suite that fails does not stop the others; the last line is the summary CI reads.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0; failures=()
only=${RAPTOKEN_SUITES:-}   # e.g. RAPTOKEN_SUITES="10-rust 20-c" to run a subset
for suite in scripts/test.d/*.sh; do
  name=$(basename "$suite" .sh)
  if [ -n "$only" ] && [[ " $only " != *" $name "* ]]; then continue; fi
  echo "=== suite $name"
  start=$(date +%s)
  if bash "$suite"; then
    passed=$((passed + 1)); echo "=== suite $name: ok ($(( $(date +%s) - start )) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== suite $name: FAILED ($(( $(date +%s) - start )) s)"
  fi
done
[ ${#failures[@]} -gt 0 ] && echo "failed suites: ${failures[*]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
