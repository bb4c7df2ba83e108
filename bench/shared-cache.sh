#!/usr/bin/env bash
# Benchmark 7: RUNS sequential `raptoken token` runs (a CLI in a shell loop), without and with
# the shared cache (a fresh cache directory per loop). Reports the token requests the server saw
# per loop and the wall time of a loop, and their ratios, measured in the same run: ROUNDS rounds,
# the two loops alternating, median loop time (a shared machine makes single loops noisy).
#
#   bench/shared-cache.sh [RUNS [ROUNDS]]   (default 100 runs, 5 rounds)
#
# Under scripts/bench.sh (BENCH_HTTPS set) it uses the benchmarks' token server with an explicit
# token endpoint and appends a JSON line to $BENCH_RESULTS; run alone it starts the local OpenID
# provider (testing/with-oidc-server.sh), so each run without the cache also pays discovery.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-100}
rounds=${2:-5}
cli=$root/target/release/raptoken

if [ -n "${BENCH_HTTPS:-}" ]; then
  export RAPIDATA_CA_FILE=$BENCH_CA
  endpoint() { echo "--token-endpoint=$BENCH_HTTPS/token/$1"; }
  secret() { echo "bench-secret"; }
  requests() { curl -fsS "$BENCH_HTTP/count?id=$1"; }
  ids=(shared-cache-warmup shared-cache-off shared-cache-on)
  server="the benchmarks' token server, explicit token endpoint"
else
  if [ -z "${RAPTOKEN_TEST_ADMIN:-}" ]; then
    (bash "$root/scripts/build.sh" --bin raptoken 2>&1 | tail -n 1 >&2)
    exec "$root/testing/with-oidc-server.sh" "$0" "$@"
  fi
  export RAPIDATA_ISSUER=$RAPTOKEN_TEST_ISSUER RAPIDATA_CA_FILE=$RAPTOKEN_TEST_CA_FILE
  endpoint() { :; }
  secret() { echo "secret-$1"; }
  requests() { curl -fsS "$RAPTOKEN_TEST_ADMIN/stats?client_id=$1" | sed -n 's/.*"token_requests":\([0-9]*\).*/\1/p'; }
  ids=(basic-62 basic-60 basic-61)
  server="the local OpenID provider, with discovery"
fi
unset RAPIDATA_SHARED_CACHE RAPIDATA_TOKEN_FILE
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

ms() { echo $(($(date +%s%N) / 1000000)); }
# loop CLIENT_ID [FLAGS...]: RUNS sequential runs; prints the elapsed milliseconds.
loop() {
  local id=$1 start
  shift
  start=$(ms)
  for ((i = 0; i < runs; i++)); do
    # shellcheck disable=SC2046 # endpoint prints one flag or nothing
    RAPIDATA_CLIENT_ID=$id RAPIDATA_CLIENT_SECRET=$(secret "$id") "$cli" token -q $(endpoint "$id") "$@" >/dev/null
  done
  echo $(($(ms) - start))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

loop "${ids[0]}" >/dev/null # warm-up (page cache, server): not counted
off=() on=()
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then
    off+=("$(loop "${ids[1]}")") on+=("$(loop "${ids[2]}" --shared-cache="$dir/round$r")")
  else
    on+=("$(loop "${ids[2]}" --shared-cache="$dir/round$r")") off+=("$(loop "${ids[1]}")")
  fi
done
off_ms=$(printf '%s\n' "${off[@]}" | median)
on_ms=$(printf '%s\n' "${on[@]}" | median)
off_req=$(($(requests "${ids[1]}") / rounds))
on_req=$(($(requests "${ids[2]}") / rounds))
echo "shared cache, against $server; median of $rounds rounds (loop times: without ${off[*]} ms, with ${on[*]} ms):"
awk -v runs="$runs" -v offr="$off_req" -v onr="$on_req" -v offt="$off_ms" -v ont="$on_ms" 'BEGIN {
  printf "%-24s %9s %12s %12s\n", runs " sequential runs", "requests", "wall time", "per run"
  printf "%-24s %9d %9d ms %9.2f ms\n", "without shared cache", offr, offt, offt / runs
  printf "%-24s %9d %9d ms %9.2f ms\n", "with --shared-cache", onr, ont, ont / runs
  printf "ratio without/with: requests %.0fx, wall time %.2fx\n", offr / onr, offt / ont
}'
if [ -n "${BENCH_RESULTS:-}" ]; then
  echo "{\"bench\":\"shared_cache\",\"runs\":$runs,\"rounds\":$rounds,\"off_requests\":$off_req,\"on_requests\":$on_req,\"off_ms\":$off_ms,\"on_ms\":$on_ms}" >>"$BENCH_RESULTS"
fi
