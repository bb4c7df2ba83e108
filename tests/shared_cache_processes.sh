#!/usr/bin/env bash
# The shared token cache and the token file across real processes, against the real OpenID
# provider. Run by scripts/test.d/70-shared-cache.sh under testing/with-oidc-server.sh:
#
#   tests/shared_cache_processes.sh C_PROGRAM C_PROGRAM_STATIC RAPTOKEN_CLI
#
# C_PROGRAM is tests/c/shared_token.c linked against libraptoken.so; the static build is used
# where the test drops privileges and must not depend on the checkout's location.
# Every wait is bounded; a failed check prints what it saw and the script exits non-zero.
set -uo pipefail
c_prog=$1 c_static=$2 cli=$3

export RAPIDATA_ISSUER=$RAPTOKEN_TEST_ISSUER RAPIDATA_CA_FILE=$RAPTOKEN_TEST_CA_FILE
unset RAPIDATA_SHARED_CACHE RAPIDATA_TOKEN_FILE RAPIDATA_CLIENT_ID RAPIDATA_CLIENT_SECRET RAPIDATA_CREDENTIALS_FILE
work=$(mktemp -d "${TMPDIR:-/tmp}/raptoken-shared.XXXXXX")
extra_dirs=()
children=()
cleanup() {
  for p in "${children[@]}"; do kill -KILL "$p" 2>/dev/null; done
  curl -fsS -X POST "$RAPTOKEN_TEST_ADMIN/delay?ms=0" >/dev/null 2>&1
  rm -rf "$work" "${extra_dirs[@]}"
}
trap cleanup EXIT

. "$(dirname "$0")/process_checks.sh"
admin() { curl -fsS -X POST "$RAPTOKEN_TEST_ADMIN/$1" >/dev/null; }
requests_are() { [ "$(requests "$1")" = "$2" ]; }
# Every directory 0700 and every file 0600 under $1, owned by this user; no temporary files.
private_tree() {
  local bad
  bad=$(find "$1" \( -type d ! -perm 0700 \) -o \( -type f ! -perm 0600 \) -o ! -user "$(id -u)" -o -name '*.tmp.*' -o \( ! -type d ! -type f \))
  [ -z "$bad" ] || { echo "    not private: $bad" >&2; return 1; }
}
holds_lock_file() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q '\.lock$'; }

echo "--- 20 processes (10 CLI, 10 C) started at once: one token request"
dir=$work/stampede out=$work/stampede-out
mkdir -p "$out"
# The first request stays open 800 ms, so all 20 are running while it is in flight.
admin "delay?ms=800"
mkfifo "$work/gate"
exec 9<>"$work/gate"
pids=()
for i in $(seq 1 10); do
  ( read -r _ <&9; exec 9>&-; exec "$c_prog" slow-0 secret-slow-0 "$dir" ) >"$out/c$i.out" 2>"$out/c$i.err" &
  pids+=($!)
  ( read -r _ <&9; exec 9>&-; RAPIDATA_CLIENT_ID=slow-0 RAPIDATA_CLIENT_SECRET=secret-slow-0 exec "$cli" token --shared-cache="$dir" ) \
    >"$out/cli$i.out" 2>"$out/cli$i.err" &
  pids+=($!)
done
children+=("${pids[@]}")
printf '\n%.0s' $(seq 1 20) >&9 # opens the gate for all 20 at once
exec 9>&-
check "all 20 processes succeed" reap 30 "${pids[@]}"
admin "delay?ms=0"
check "one token request for 20 processes" same "$(requests slow-0)" 1
check "all 20 print the same token" all_equal_nonempty "$out"/*.out
check "the token works" api_accepts "$(cat "$out/c1.out")"
check "dir 0700, files 0600, all ours, no temporary files" private_tree "$dir"
check "one key: a .json and a .lock" same "$(find "$dir" -type f | sed 's/.*\.//' | sort | tr '\n' ' ')" "json lock "
# RAPIDATA_SHARED_CACHE=DIR is the same cache as the option and the flag.
check "RAPIDATA_SHARED_CACHE shares it too" same "$(RAPIDATA_SHARED_CACHE=$dir "$c_prog" slow-0 secret-slow-0 -)" "$(cat "$out/c1.out")"
check "... without a request" same "$(requests slow-0)" 1

echo "--- the lock holder is killed mid-fetch: the waiters still get a token, without waiting out the deadline"
dir=$work/killed out=$work/killed-out
mkdir -p "$out"
admin "delay?ms=20000"
"$c_prog" slow-1 secret-slow-1 "$dir" >"$out/holder" 2>&1 &
holder=$!
disown "$holder" # no "Killed" job notice in the log
children+=("$holder")
check "the holder's request reached the server" wait_for 10 requests_are slow-1 1
pids=()
for i in 1 2; do
  "$c_prog" slow-1 secret-slow-1 "$dir" >"$out/c$i.out" 2>"$out/c$i.err" &
  pids+=($!)
  RAPIDATA_CLIENT_ID=slow-1 RAPIDATA_CLIENT_SECRET=secret-slow-1 "$cli" token --shared-cache="$dir" >"$out/cli$i.out" 2>"$out/cli$i.err" &
  pids+=($!)
done
children+=("${pids[@]}")
waiting() { for p in "${pids[@]}"; do holds_lock_file "$p" || return 1; done; }
check "the waiters are waiting for the holder's lock" wait_for 10 waiting
admin "delay?ms=0"
kill -KILL "$holder"
# Their lock wait is the request timeout (10 s): well inside it, the lock the kernel dropped
# with the holder is taken by one waiter, whose request the others share.
check "every waiter gets a token" reap 8 "${pids[@]}"
check "one more request, not one per waiter (nobody gave up waiting)" same "$(requests slow-1)" 2
check "the waiters print the same token" all_equal_nonempty "$out"/*.out
check "the token works" api_accepts "$(cat "$out/c1.out")"
check "no temporary files, all private" private_tree "$dir"

echo "--- a full disk: the token is served, nothing half-written is left, the next process shares again"
dir=$work/full
# RLIMIT_FSIZE 0 makes every write to a file fail (EFBIG), as a full disk does; SIGXFSZ ignored.
token=$( (trap '' XFSZ; ulimit -f 0; exec "$c_prog" basic-1 secret-basic-1 "$dir") 2>"$work/full.err")
check "the caller gets a token" api_accepts "$token"
check "no entry and no temporary file were left" same "$(find "$dir" -name '*.json' -o -name '*.tmp.*')" ""
second=$("$c_prog" basic-1 secret-basic-1 "$dir")
third=$("$c_prog" basic-1 secret-basic-1 "$dir")
check "with space again the entry is written and shared" same "$third" "$second"
check "two requests in all" same "$(requests basic-1)" 2
check "all private" private_tree "$dir"

echo "--- a read-only cache directory: in-memory caching, no error"
ro=$(mktemp -d "${TMPDIR:-/tmp}/raptoken-ro.XXXXXX")
extra_dirs+=("$ro")
chmod 755 "$ro"
cp "$RAPTOKEN_TEST_CA_FILE" "$ro/ca.pem" && chmod 644 "$ro/ca.pem"
cp "$c_static" "$ro/shared_token" && chmod 755 "$ro/shared_token"
mkdir "$ro/cache"
if [ "$(id -u)" = 0 ]; then
  # Root writes anywhere: run as nobody, owning a directory it cannot write.
  chown 65534:65534 "$ro/cache"
  as_owner=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
else
  as_owner=()
fi
chmod 500 "$ro/cache"
token=$(cd / && RAPIDATA_CA_FILE=$ro/ca.pem "${as_owner[@]}" "$ro/shared_token" basic-2 secret-basic-2 "$ro/cache" 2>"$work/ro.err")
check "the caller gets a token" api_accepts "$token"
check "nothing was written" same "$(ls -A "$ro/cache")" ""
check "the directory was left as it was" same "$(stat -c %a "$ro/cache")" 500

echo "--- the Python SDK's token file format is accepted"
file=$work/sdk/rapidata_token.json
mkdir -p "$work/sdk"
token=$("$c_prog" basic-3 secret-basic-3 -)
# What the SDK's maintain_token_file writes: json.dump of an authlib token dict.
python3 - "$file" "$token" <<'PY'
import json, sys, time
path, token = sys.argv[1], sys.argv[2]
with open(path, "w") as f:
    json.dump({"access_token": token, "expires_in": 3600, "token_type": "Bearer",
               "scope": "openid roles email", "expires_at": int(time.time()) + 3600}, f)
PY
chmod 600 "$file"
check "a process with only RAPIDATA_TOKEN_FILE reads it" same "$(RAPIDATA_TOKEN_FILE=$file "$c_prog" - - -)" "$token"
check "... and sends no request" same "$(requests basic-3)" 1

echo "--- raptoken maintain keeps a token file that other processes read"
file=$work/maintained/token.json
RAPIDATA_CLIENT_ID=basic-4 RAPIDATA_CLIENT_SECRET=secret-basic-4 "$cli" maintain --token-file "$file" >"$work/maintain.out" 2>"$work/maintain.err" &
maintainer=$!
children+=("$maintainer")
check "the file appears" wait_for 10 test -s "$file"
check "the file is 0600, its directory 0700" same "$(stat -c %a "$file" "$(dirname "$file")" | tr '\n' ' ')" "600 700 "
token=$(RAPIDATA_TOKEN_FILE=$file "$c_prog" - - -)
check "a second process reads the token from it" api_accepts "$token"
check "one request: the maintainer's" same "$(requests basic-4)" 1
# Read it back the way the SDK does (rest.py: json.load, then authlib's expiry check on the
# integer expires_at and the bearer token_type).
check "the SDK's reader accepts it" python3 - "$file" "$token" <<'PY'
import json, sys, time
tok = json.load(open(sys.argv[1]))
assert tok["access_token"] == sys.argv[2], "another token"
assert tok["token_type"].lower() == "bearer"
assert isinstance(tok["expires_at"], int) and tok["expires_at"] - 60 > time.time(), tok["expires_at"]
PY
kill -TERM "$maintainer"
check "SIGTERM: exits 0 within 5 s" reap 5 "$maintainer"
check "the file stays (its token is still valid for the readers)" test -s "$file"
check "no temporary files left" same "$(ls -A "$(dirname "$file")")" "token.json"
RAPIDATA_CLIENT_ID=basic-4 RAPIDATA_CLIENT_SECRET=secret-basic-4 "$cli" maintain --token-file "$file" >/dev/null 2>&1 &
maintainer=$!
children+=("$maintainer")
check "a restarted maintainer rewrites it" wait_for 10 requests_are basic-4 2
kill -INT "$maintainer"
check "SIGINT: exits 0 within 5 s" reap 5 "$maintainer"

echo "--- maintain renews the file ahead of expiry; readers never see a partial file"
file=$work/short/token.json
RAPIDATA_CLIENT_ID=short-5 RAPIDATA_CLIENT_SECRET=secret-short-5 "$cli" maintain --token-file "$file" >/dev/null 2>"$work/short.err" &
maintainer=$!
children+=("$maintainer")
file_token() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["access_token"])' "$1" 2>/dev/null; }
check "the file appears" wait_for 10 test -s "$file"
first=$(file_token "$file")
# short-5 tokens live 3 s: renewal is due 1.35 s after each request. Read it while it is replaced.
changed() { [ -n "$(file_token "$file")" ] && [ "$(file_token "$file")" != "$first" ]; }
reads=0 reads_ok=0 deadline=$((SECONDS + 6))
until changed || ((SECONDS >= deadline)); do
  reads=$((reads + 1))
  RAPIDATA_TOKEN_FILE=$file "$c_prog" - - - >/dev/null 2>>"$work/short-readers.err" && reads_ok=$((reads_ok + 1))
done
check "a renewed token replaced the first within 6 s" changed
check "every reader meanwhile got a token ($reads_ok of $reads)" same "$reads_ok" "$reads"
check "the renewed token works" api_accepts "$(file_token "$file")"
kill -TERM "$maintainer"
check "SIGTERM: exits 0" reap 5 "$maintainer"

summary "shared-cache processes"
