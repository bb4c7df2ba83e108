#!/usr/bin/env bash
# Runs a command with a private redis-server up (the Debian package; scripts/setup.sh installs it):
#
#   testing/with-redis.sh CMD [ARGS...]
#
# The server listens on 127.0.0.1 on a free port and on a unix socket in its own temporary
# directory, requires a random password and persists nothing. Exported for CMD:
#   RAPTOKEN_TEST_REDIS_URL       redis://:PASSWORD@127.0.0.1:PORT
#   RAPTOKEN_TEST_REDIS_PORT, RAPTOKEN_TEST_REDIS_PASSWORD, RAPTOKEN_TEST_REDIS_DIR (with
#   redis.sock), RAPTOKEN_TEST_REDIS_PID (to pause or kill it)
# The server is stopped when CMD ends (also on errors and Ctrl-C); exits with CMD's status.
set -uo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "with-redis: redis-server not found (run scripts/setup.sh)" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/with-redis.XXXXXX")
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then
    kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  fi
  rm -rf -- "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
for attempt in 1 2 3 4 5; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --requirepass "$password" --save "" --appendonly no \
    --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" --logfile "$dir/redis.log" </dev/null &
  pid=$!
  for ((i = 0; i < 100; i++)); do
    [[ "$(redis-cli -p "$port" --no-auth-warning -a "$password" PING 2>/dev/null)" == PONG ]] && break 2
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""
done
[[ -n "$pid" ]] || { echo "with-redis: redis-server did not start" >&2; cat "$dir/redis.log" >&2; exit 1; }

export RAPTOKEN_TEST_REDIS_URL="redis://:$password@127.0.0.1:$port" RAPTOKEN_TEST_REDIS_PORT=$port \
  RAPTOKEN_TEST_REDIS_PASSWORD=$password RAPTOKEN_TEST_REDIS_DIR=$dir RAPTOKEN_TEST_REDIS_PID=$pid
"$@"
