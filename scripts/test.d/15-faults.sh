#!/usr/bin/env bash
# Faults, stress and secret hygiene: one test per injected fault (tests/faults.rs), the stress
# test (8 threads for RAPTOKEN_STRESS_SECS, default 20), proxy/trust from the environment, and
# the fuzz corpus replay. Then the suite-wide scan: every error message and log line those
# tests produced (target/fault-logs/*.lines) is searched for every secret and token the test
# servers issued or the tests used (*.secrets). One hit fails the suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf target/fault-logs
testing/with-oidc-server.sh cargo test --locked --features fleet --test faults --test stress --test network_env --test fuzz_corpus 2>&1

logs=target/fault-logs
shopt -s nullglob
line_files=("$logs"/*.lines)
secret_files=("$logs"/*.secrets)
if [ ${#line_files[@]} -lt 20 ] || [ ${#secret_files[@]} -lt 20 ]; then
  echo "secret scan: expected transcripts from every fault test, found ${#line_files[@]}"
  exit 1
fi
patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
cat "${secret_files[@]}" | grep -v '^$' | sort -u >"$patterns"
lines=$(cat "${line_files[@]}" | wc -l)
if grep -F -n -f "$patterns" "${line_files[@]}"; then
  echo "secret scan: the lines above contain a secret or token"
  exit 1
fi
echo "secret scan: $lines log lines and error messages, $(wc -l <"$patterns") secrets and tokens, no leak"
cat "$logs/stress.summary"; echo
