#!/usr/bin/env bash
# Benchmarks, quick mode: every benchmark of `make bench` with few iterations, so none of them
# rots. Nothing here fails on a timing; it fails if a benchmark does not build or run, or if the
# report misses a section. Writes target/bench/quick/, never the committed BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=$(mktemp -d "${TMPDIR:-/tmp}/bench-quick.XXXXXX")
trap 'rm -rf "$out"' EXIT
BENCH_QUICK=1 BENCH_OUT="$out" timeout 600 bash scripts/bench.sh >"$out/log" 2>&1 || { tail -50 "$out/log"; exit 1; }
passed=0; failed=0
check() { if grep -q -- "$1" "$out/BENCHMARKS.md"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "missing from the report: $1"; fi; }
check "## 1. Warm cache from C"
check "| 4 | "                                   # a 4-thread row
check "## 2. Under refresh"
check "| oauth2.ReuseTokenSource | 1 | "
check "## 3. Thundering herd"
check "| cold client | 64 | 1 | 0 |"             # exactly one request: behaviour, not timing
check "| hard expiry | 64 | 1 | 0 |"
check "Python authlib"
check "Go x/oauth2 clientcredentials"
check "curl (process)"
check "| ES256 | EC P-256 | "                  # private_key_jwt: signing and a fetch that signs
check "| RS256 | RSA 2048-bit | "
check "## 5. Bindings"
check "| raptoken-context | "                 # Go: warm TokenContext
check "| OS threads created | "                # Go: the cold-start burst, before and after
check "GetTokenAsync() ns"                     # C#: warm GetTokenAsync vs GetToken
check "| busy pool threads added | "           # C#: the cold-start burst, before and after
check "## 6. Footprint"
check "## 7. Shared cache between processes"
check "| with \`--shared-cache\` | 1 | "        # one request per loop: behaviour, not timing
check "## 8. A fleet starting together"
check "## 9. An outage"
check "| back-off window (now) | "
[ -s "$out/under-refresh.png" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "no plot"; }
sed -n '/^## Headline/,/^## 1\./p' "$out/BENCHMARKS.md"
echo "bench-quick: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
