#!/usr/bin/env bash
# Benchmark 8: the fleet cache. PROCS processes start together (a fifo gate) with cold caches,
# with no sharing, with host sharing (RAPIDATA_SHARED_CACHE, one directory) and with Redis
# sharing (RAPIDATA_SHARED_CACHE_URL): token requests the server saw and time to first token
# (median and slowest process), ROUNDS rounds each, modes alternating. Then the cost of a miss
# served from Redis against one served by the token server (bench/c/fleet.c). Ratios are of
# numbers measured in this run.
#
#   bench/fleet.sh [PROCS [ROUNDS]]   (default 64 processes, 3 rounds; under scripts/bench.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
procs=${1:-64} rounds=${2:-3}
: "${BENCH_HTTPS:?run under scripts/bench.sh}"
if [ -z "${RAPTOKEN_TEST_REDIS_URL:-}" ]; then exec "$root/testing/with-redis.sh" "$0" "$@"; fi
prog=${BENCH_FLEET_PROG:?built by scripts/bench.sh}
unset RAPIDATA_SHARED_CACHE RAPIDATA_SHARED_CACHE_URL RAPIDATA_TOKEN_FILE
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rcli() { redis-cli -p "$RAPTOKEN_TEST_REDIS_PORT" --no-auth-warning -a "$RAPTOKEN_TEST_REDIS_PASSWORD" "$@" >/dev/null; }

# run MODE ROUND: PROCS processes released together; prints "requests median_us max_us".
run() {
  local mode=$1 id="fleet-$1-$2" gate="$work/gate-$1-$2" pids=() env=()
  case $mode in
    host) env=(RAPIDATA_SHARED_CACHE="$work/host-$2") ;;
    redis) env=(RAPIDATA_SHARED_CACHE_URL="$RAPTOKEN_TEST_REDIS_URL"); rcli FLUSHALL ;;
  esac
  mkfifo "$gate"
  for ((i = 0; i < procs; i++)); do
    env "${env[@]}" "$prog" start "$id" "$gate" >"$work/$id.$i" &
    pids+=($!)
  done
  sleep 0.5 # every process has made its client and waits at the gate (opening it releases them)
  timeout 20 bash -c "exec 3>'$gate'"
  for p in "${pids[@]}"; do wait "$p"; done
  local times
  times=$(cat "$work/$id".* | sort -n)
  echo "$(curl -fsS "$BENCH_HTTP/count?id=$id") $(sed -n "$(((procs + 1) / 2))p" <<<"$times") $(tail -n 1 <<<"$times")"
}

declare -A req med max
for mode in none host redis; do req[$mode]=0; med[$mode]=""; max[$mode]=""; done
for ((r = 1; r <= rounds; r++)); do
  order=(none host redis); ((r % 2)) || order=(redis host none)
  for mode in "${order[@]}"; do
    read -r q m x < <(run "$mode" "$r")
    req[$mode]=$((req[$mode] + q)); med[$mode]+="$m "; max[$mode]+="$x "
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The cost of a miss: a new client's first token, from Redis (entry present) or from the server.
n=$([ -n "${BENCH_QUICK:-}" ] && echo 20 || echo 200)
RAPIDATA_SHARED_CACHE_URL="$RAPTOKEN_TEST_REDIS_URL" "$prog" miss fleet-miss 1 >/dev/null
from_redis=$(RAPIDATA_SHARED_CACHE_URL="$RAPTOKEN_TEST_REDIS_URL" "$prog" miss fleet-miss "$n")
from_server=$("$prog" miss fleet-miss-server "$n")

echo "fleet: $procs processes started together, cold; $rounds rounds (requests per round, time to first token)"
printf '%-16s %10s %14s %14s\n' sharing requests "median TTFT" "slowest TTFT"
json=""
for mode in none host redis; do
  m=$(median <<<"${med[$mode]}") x=$(median <<<"${max[$mode]}") q=$((req[$mode] / rounds))
  awk -v s="$mode" -v q="$q" -v m="$m" -v x="$x" 'BEGIN { printf "%-16s %10d %11.1f ms %11.1f ms\n", s, q, m / 1000, x / 1000 }'
  json+="\"$mode\":{\"requests\":$q,\"ttft_median_us\":$m,\"ttft_max_us\":$x},"
done
echo "a miss (new client, first token), median of $n: from Redis ${from_redis} us, from the token server ${from_server} us"
if [ -n "${BENCH_RESULTS:-}" ]; then
  echo "{\"bench\":\"fleet\",\"procs\":$procs,\"rounds\":$rounds,${json}\"miss_redis_us\":$from_redis,\"miss_server_us\":$from_server,\"miss_n\":$n}" >>"$BENCH_RESULTS"
fi
