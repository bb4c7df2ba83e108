#!/usr/bin/env bash
# `make bench`: builds raptoken in release mode, starts the benchmarks' token server on loopback
# (bench/go/cmd/tokensrv), runs every benchmark in bench/ and writes BENCHMARKS.md from the
# numbers this run printed (bench/report.py), plus bench/under-refresh.png. Also refreshes the
# README's headline table.
#
#   make bench                      # full run (~3 min), writes BENCHMARKS.md
#   BENCH_QUICK=1 scripts/bench.sh  # few iterations (CI, scripts/test.d/90-bench-quick.sh):
#                                   # writes target/bench/quick/ only, never the committed files
# BENCH_OUT=DIR puts the report and plot in DIR instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=${BENCH_QUICK:-0}; [ "$quick" = 0 ] && quick=
export BENCH_QUICK=${quick:+1}
work="$root/target/bench"
if [ -n "$quick" ]; then out=${BENCH_OUT:-$work/quick}; else out=${BENCH_OUT:-$root}; fi
mkdir -p "$work" "$out"
report="$out/BENCHMARKS.md"
plot="$out/bench/under-refresh.png"; [ "$out" = "$root" ] || plot="$out/under-refresh.png"
mkdir -p "$(dirname "$plot")"

echo "=== setup and build"
bash bench/setup.sh
bash scripts/build.sh
strip -o "$work/libraptoken.so" target/release/libraptoken.so
cflags=(-std=gnu11 -O2 -Wall -Wextra -Werror -Iinclude)
link=(-Ltarget/release -Wl,-rpath,"$root/target/release" -lraptoken -lpthread)
for b in warm under_refresh herd outage; do cc "${cflags[@]}" "bench/c/$b.c" "${link[@]}" -o "$work/$b"; done
cc "${cflags[@]}" -DHAVE_LIBCURL bench/c/fetch_cost.c "${link[@]}" -lcurl -o "$work/fetch_cost"
cc "${cflags[@]}" bench/c/footprint.c -ldl -o "$work/footprint"
cc "${cflags[@]}" bench/c/fleet.c "${link[@]}" -o "$work/fleet"
(cd bench/go && go build -o "$work/" ./cmd/...)

echo "=== token server"
srv="$work/server"; rm -rf "$srv"; mkdir -p "$srv"
mkfifo "$srv/stdin"
exec {srv_fd}<>"$srv/stdin"   # the server exits when this script goes away (EOF on its stdin)
"$work/tokensrv" -dir "$srv" <"$srv/stdin" >"$srv/ready" &
srv_pid=$!
trap 'exec {srv_fd}>&-; kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$srv/server.json" ] && break; sleep 0.1; done
[ -s "$srv/server.json" ] || { echo "bench: the token server did not start"; exit 1; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$srv/server.json" "$1"; }
export BENCH_HTTP=$(field http) BENCH_HTTPS=$(field https) BENCH_CA=$(field ca_file)
export BENCH_RESULTS="$work/results.jsonl"
: >"$BENCH_RESULTS"

# What the numbers ran on, read before the run so the load average shows what else was running.
python3 bench/machine.py "$work/machine.json"

echo "=== 1. warm cache (C)"
"$work/warm"
echo "=== 2. under refresh"
# A 200 ms window is short next to the scheduler noise of a shared machine: several runs, the
# report takes the median; the plot shows the last run.
for _ in $(seq "$([ -n "$quick" ] && echo 1 || echo 5)"); do
  "$work/under_refresh" "$work/refresh-raptoken.csv"
  "$work/refresh" -url "$BENCH_HTTPS" -ca "$BENCH_CA" -timeline "$work/refresh-oauth2.csv" -results "$BENCH_RESULTS"
done
"$root/target/bench-venv/bin/python" bench/plot_refresh.py "$work/refresh-raptoken.csv" "$work/refresh-oauth2.csv" "$plot"
echo "=== 3. thundering herd"
"$work/herd"
echo "=== 4. fetch cost"
n=$([ -n "$quick" ] && echo 10 || echo 300)
# Keys for private_key_jwt: fetches that sign an assertion each, and the signing alone.
rm -f "$work/ec.pem" "$work/rsa.pem"
(umask 077
 openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ec.pem"
 openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa.pem")
export BENCH_EC_KEY="$work/ec.pem" BENCH_RSA_KEY="$work/rsa.pem"
"$work/fetch_cost"
cargo bench --locked --bench assertion_sign
"$root/target/bench-venv/bin/python" -W ignore bench/py/fetch_cost.py "$BENCH_HTTPS/token/fetch-cost-py?size=1024" "$BENCH_CA" "$n" "$BENCH_RESULTS"
"$work/fetchcost" -url "$BENCH_HTTPS/token/fetch-cost-go?size=1024" -ca "$BENCH_CA" -n "$n" -results "$BENCH_RESULTS"
echo "=== 5. bindings"
bash bench/bindings.sh "$work/bindings"
echo "=== 6. footprint"
runs=$([ -n "$quick" ] && echo 2 || echo 7)
for _ in $(seq "$runs"); do
  echo "{\"bench\":\"footprint\",\"run\":$("$work/footprint" "$work/libraptoken.so")}" | tee -a "$BENCH_RESULTS"
done
# Without the fleet cache (a bare `cargo build --release`: what the 2.5 MB budget is for); full runs only, as it
# links the library once more. scripts/build.sh puts the shipped (fleet) build back.
default_bytes=null
if [ -z "$quick" ]; then
  cargo build --locked --release --lib && strip -o "$work/libraptoken-default.so" target/release/libraptoken.so
  default_bytes=$(stat -c %s "$work/libraptoken-default.so")
  bash scripts/build.sh
fi
echo "{\"bench\":\"size\",\"stripped_bytes\":$(stat -c %s "$work/libraptoken.so"),\"unstripped_bytes\":$(stat -c %s target/release/libraptoken.so),\"default_stripped_bytes\":$default_bytes}" | tee -a "$BENCH_RESULTS"

echo "=== 7. shared cache: sequential raptoken token runs"
bash scripts/build.sh --bin raptoken
if [ -n "$quick" ]; then bash bench/shared-cache.sh 10 1; else bash bench/shared-cache.sh 100 5; fi

echo "=== 8. fleet cache: processes starting together, no sharing / host / Redis; a miss from Redis"
if [ -n "$quick" ]; then BENCH_FLEET_PROG="$work/fleet" bash bench/fleet.sh 16 1; else BENCH_FLEET_PROG="$work/fleet" bash bench/fleet.sh 64 3; fi

echo "=== 9. an outage: token requests with and without the back-off window"
"$work/outage"

echo "=== report"
readme=(); [ -z "$quick" ] && [ "$out" = "$root" ] && readme=(--readme README.md)
python3 bench/report.py --results "$BENCH_RESULTS" --machine "$work/machine.json" --bindings "$work/bindings" \
  --plot "$(realpath --relative-to="$out" "$plot")" --out "$report" ${quick:+--quick} "${readme[@]}"
cat "$report"
echo "bench: wrote $report and $plot"
