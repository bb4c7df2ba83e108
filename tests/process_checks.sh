# Checks shared by the multi-process test scripts (tests/shared_cache_processes.sh,
# tests/fleet_processes.sh); sourced, not run. Needs RAPTOKEN_TEST_ADMIN, RAPTOKEN_TEST_API and
# RAPTOKEN_TEST_CA_FILE (testing/with-oidc-server.sh sets them). Every wait is bounded.

checks=0 failures=0
check() { # check DESCRIPTION CMD...
  local what=$1; shift
  checks=$((checks + 1))
  if ! "$@"; then failures=$((failures + 1)); echo "  FAIL: $what" >&2; fi
}
# The last line of a script: its summary, and its exit status.
summary() { # summary NAME
  echo "$1: $((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}
same() { [ "$1" = "$2" ] || { echo "    want '$2', got '$1'" >&2; return 1; }; }

# Token requests the test server received for a client.
requests() { curl -fsS "$RAPTOKEN_TEST_ADMIN/stats?client_id=$1" | sed -n 's/.*"token_requests":\([0-9]*\).*/\1/p'; }
api_accepts() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$RAPTOKEN_TEST_CA_FILE" -H "Authorization: Bearer $1" "$RAPTOKEN_TEST_API")" = 200 ]
}
# Polls CMD until it succeeds, for at most SECONDS.
wait_for() { # wait_for SECONDS CMD...
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.02
  done
}
# Waits (bounded) for background processes; fails for any that is still running or exited non-zero.
reap() { # reap SECONDS PID...
  local seconds=$1 ok=0; shift
  local deadline=$((SECONDS + seconds))
  for p in "$@"; do
    while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.02; done
    if kill -0 "$p" 2>/dev/null; then
      echo "    process $p still running after ${seconds}s" >&2
      kill -KILL "$p"; ok=1
    fi
    wait "$p" || { echo "    process $p exited with $?" >&2; ok=1; }
  done
  return $ok
}
all_equal_nonempty() { # all_equal_nonempty FILE...
  local first
  first=$(cat "$1")
  [ -n "$first" ] || { echo "    $1 is empty" >&2; return 1; }
  for f in "$@"; do same "$(cat "$f")" "$first" || { echo "    ($f)" >&2; return 1; }; done
}
