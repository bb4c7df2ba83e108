#!/usr/bin/env bash
# The fleet cache across real processes, against the real OpenID provider and a real
# redis-server. Run by scripts/test.d/72-fleet.sh under testing/with-oidc-server.sh and
# testing/with-redis.sh:
#
#   tests/fleet_processes.sh FLEET_TOKEN_PROGRAM RAPTOKEN_CLI
#
# FLEET_TOKEN_PROGRAM is tests/c/fleet_token.c (THREADS threads of one process). Every wait is
# bounded; a failed check prints what it saw and the script exits non-zero.
set -uo pipefail
prog=$1 cli=$2
procs=${RAPTOKEN_FLEET_PROCS:-16} threads=${RAPTOKEN_FLEET_THREADS:-8}

export RAPIDATA_ISSUER=$RAPTOKEN_TEST_ISSUER RAPIDATA_CA_FILE=$RAPTOKEN_TEST_CA_FILE
export RAPIDATA_SHARED_CACHE_URL=$RAPTOKEN_TEST_REDIS_URL
unset RAPIDATA_SHARED_CACHE RAPIDATA_TOKEN_FILE RAPIDATA_CREDENTIALS_FILE
work=$(mktemp -d "${TMPDIR:-/tmp}/raptoken-fleet.XXXXXX")
children=()
cleanup() {
  for p in "${children[@]}"; do kill -KILL "$p" 2>/dev/null; done
  kill -CONT "$RAPTOKEN_TEST_REDIS_PID" 2>/dev/null
  curl -fsS -X DELETE "$RAPTOKEN_TEST_ADMIN/stall" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/process_checks.sh"
rcli() { redis-cli -p "$RAPTOKEN_TEST_REDIS_PORT" --no-auth-warning -a "$RAPTOKEN_TEST_REDIS_PASSWORD" "$@"; }
# A fresh client at the test server: its request count starts at 0.
register() {
  local id="fleet-proc-$1-$$" secret="fleet-secret-$1-$$-0123456789"
  curl -fsS -H 'Content-Type: application/json' \
    -d "{\"client_id\":\"$id\",\"client_secret\":\"$secret\",\"token_endpoint_auth_method\":\"client_secret_basic\"}" \
    "$RAPTOKEN_TEST_ADMIN/clients" >/dev/null || return 1
  export RAPIDATA_CLIENT_ID=$id RAPIDATA_CLIENT_SECRET=$secret
}
# Opens the fifo GATE for writing, which releases every process reading it at once (bounded: a
# process that never came would make this block, so it opens with a timeout).
open_gate() { timeout 10 bash -c "exec 3>'$1'; sleep 0.2" || echo "    gate: not every process opened it" >&2; }

echo "--- $procs processes x $threads threads, cold, started together: one token request"
register stampede
# The first request is held 500 ms at the server, so every process is waiting while it is in flight.
curl -fsS -X POST "$RAPTOKEN_TEST_ADMIN/stall?ms=500&count=1&client_id=$RAPIDATA_CLIENT_ID" >/dev/null
mkfifo "$work/gate"
pids=()
for i in $(seq "$procs"); do
  "$prog" "$threads" "$work/gate" >"$work/out.$i" 2>"$work/err.$i" &
  pids+=($!); children+=($!)
done
open_gate "$work/gate"
check "all $procs processes succeed" reap 30 "${pids[@]}"
check "every thread of every process got the same token" all_equal_nonempty "$work"/out.*
check "exactly one token request for $((procs * threads)) callers" same "$(requests "$RAPIDATA_CLIENT_ID")" 1
token=$(cat "$work/out.1")
check "the token works at the API" api_accepts "$token"
cat "$work"/err.* >&2

echo "--- what redis-cli shows: a hashed key and a sealed value"
keys=$(rcli --scan)
check "one key, raptoken:{HASH}:token" bash -c "[ \"\$(printf '%s\n' \"$keys\" | wc -l)\" = 1 ] && [[ '$keys' == raptoken:\{*\}:token ]]"
check "the key does not name the client" bash -c "[[ '$keys' != *$RAPIDATA_CLIENT_ID* ]]"
rcli --raw GET "$keys" >"$work/raw"
check "the value is not the token" bash -c "! grep -aqF -- '$token' '$work/raw' && ! grep -aqF -- '${token:0:16}' '$work/raw'"
check "the value names nothing" bash -c "! grep -aqE 'access_token|Bearer|$RAPIDATA_CLIENT_ID' '$work/raw'"

echo "--- raptoken check: the fleet cache in use, whether it answers, and the token taken from it"
"$cli" check >"$work/check" 2>&1; rc=$?
check "check succeeds" same "$rc" 0
check "check reports the fleet cache and that it answers" grep -q "^fleet cache: *redis://:\*\*\*@127.0.0.1:$RAPTOKEN_TEST_REDIS_PORT (answers" "$work/check"
check "check never shows the Redis password" bash -c "! grep -qF '$RAPTOKEN_TEST_REDIS_PASSWORD' '$work/check'"
check "check took the token from the fleet cache" grep -q "^token request: *not sent" "$work/check"
check "still one request" same "$(requests "$RAPIDATA_CLIENT_ID")" 1
RAPIDATA_SHARED_CACHE_URL="redis://127.0.0.1:1" "$cli" check >"$work/check-down" 2>&1; rc=$?
check "check with Redis unreachable still gets a token" same "$rc" 0
check "and says the fleet cache does not answer" grep -q "^fleet cache: .*does NOT answer" "$work/check-down"
cat "$work/check" | sed 's/^/    /'

echo "--- raptoken maintain keeps the fleet's entry: processes then send no request"
register maintain
"$cli" maintain --once >"$work/maintain" 2>&1; rc=$?
check "maintain --once (no token file) succeeds" same "$rc" 0
check "maintain says where it keeps the token" grep -q "in the fleet cache redis://:\*\*\*@" "$work/maintain"
pids=()
mkfifo "$work/gate2"
for i in 1 2 3 4; do "$prog" 2 "$work/gate2" >"$work/m.$i" & pids+=($!); children+=($!); done
open_gate "$work/gate2"
check "4 processes succeed" reap 20 "${pids[@]}"
check "they took maintain's token" all_equal_nonempty "$work"/m.*
check "no request but maintain's" same "$(requests "$RAPIDATA_CLIENT_ID")" 1

echo "--- Redis paused (SIGSTOP) under a fleet: processes still get tokens, each within its bounds"
register paused
kill -STOP "$RAPTOKEN_TEST_REDIS_PID"
start=$(date +%s%N)
pids=()
mkfifo "$work/gate3"
for i in 1 2 3 4; do "$prog" 4 "$work/gate3" >"$work/p.$i" & pids+=($!); children+=($!); done
open_gate "$work/gate3"
check "4 processes succeed with Redis hung" reap 20 "${pids[@]}"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "within the bound (one 1 s Redis timeout, then a fetch): ${ms} ms" bash -c "[ $ms -lt 5000 ]"
kill -CONT "$RAPTOKEN_TEST_REDIS_PID"
check "each process fetched for itself (4 requests at most)" bash -c "[ $(requests "$RAPIDATA_CLIENT_ID") -le 4 ]"

summary "fleet processes"
