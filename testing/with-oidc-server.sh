#!/usr/bin/env bash
# Runs a command with a local test OpenID Connect server (testing/oidc-server) up:
#
#   testing/with-oidc-server.sh CMD [ARGS...]
#
# Installs the server's npm dependencies if needed, starts the server, waits for it to be ready
# (at most RAPTOKEN_OIDC_START_TIMEOUT seconds, default 30), exports
#   RAPTOKEN_TEST_ISSUER          https://localhost:PORT          (no trailing slash)
#   RAPTOKEN_TEST_TOKEN_ENDPOINT  https://localhost:PORT/connect/token
#   RAPTOKEN_TEST_API             https://localhost:PORT/api/v1/me
#   RAPTOKEN_TEST_ADMIN           http://127.0.0.1:APORT          (admin API, plain HTTP)
#   RAPTOKEN_TEST_CA_FILE         CA that signed the server certificate (PEM)
#   RAPTOKEN_TEST_WRONG_CA_FILE   an unrelated CA (PEM), for "wrong CA" tests
#   RAPTOKEN_TEST_SERVER_DIR      the server's working directory (server.json, certificates)
#   RAPTOKEN_TEST_RESOURCES       the resource indicators it knows, space-separated (RFC 8707)
# runs CMD, stops the server (also on errors and Ctrl-C) and exits with CMD's status.
# Set RAPTOKEN_OIDC_VERBOSE=1 to see the server's request log on stderr, and
# RAPTOKEN_OIDC_SERVER_ARGS to pass options to the server (e.g. "--cert-key rsa --no-bridge").
set -uo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

testing_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
server_dir="$testing_dir/oidc-server"
timeout_s="${RAPTOKEN_OIDC_START_TIMEOUT:-30}"

"$server_dir/install-deps.sh" || { echo "with-oidc-server: npm dependency install failed" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/with-oidc-server.XXXXXX")"
server_pid=""
stdin_fd=""

cleanup() {
  # Closing our end of the fifo makes the server exit (EOF on its stdin); TERM as a fallback.
  if [[ -n "$stdin_fd" ]]; then exec {stdin_fd}>&-; stdin_fd=""; fi
  if [[ -n "$server_pid" ]]; then
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      kill -TERM "$server_pid" 2>/dev/null
      for ((i = 0; i < 30; i++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$server_pid" 2>/dev/null
    fi
    wait "$server_pid" 2>/dev/null
    server_pid=""
  fi
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The server exits when its stdin reaches EOF. Hold the write end of a fifo (opened read-write
# so the open does not block) for as long as this script lives; if this script is killed the
# kernel closes it and the server goes away too.
mkfifo "$work/stdin"
exec {stdin_fd}<>"$work/stdin"

read -r -a server_args <<<"${RAPTOKEN_OIDC_SERVER_ARGS:-}"
node "$server_dir/server.mjs" "${server_args[@]}" <"$work/stdin" >"$work/ready" {stdin_fd}>&- &
server_pid=$!

ready=""
deadline=$((SECONDS + timeout_s))
while :; do
  # read succeeds only once the whole line, newline included, has been written
  if [[ -s "$work/ready" ]] && IFS= read -r ready <"$work/ready"; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid"
    echo "with-oidc-server: the OIDC test server exited (status $?) before it was ready" >&2
    server_pid=""
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "with-oidc-server: the OIDC test server was not ready after ${timeout_s}s; giving up" >&2
    exit 1
  fi
  sleep 0.05
done

exports="$(node -e '
  const r = JSON.parse(process.argv[1]);
  const q = (s) => "\x27" + String(s).replace(/\x27/g, "\x27\\\x27\x27") + "\x27";
  const vars = {
    RAPTOKEN_TEST_ISSUER: r.issuer,
    RAPTOKEN_TEST_TOKEN_ENDPOINT: r.token_endpoint,
    RAPTOKEN_TEST_API: r.api,
    RAPTOKEN_TEST_ADMIN: r.admin,
    RAPTOKEN_TEST_CA_FILE: r.ca_file,
    RAPTOKEN_TEST_WRONG_CA_FILE: r.wrong_ca_file,
    RAPTOKEN_TEST_SERVER_DIR: r.dir,
    RAPTOKEN_TEST_RESOURCES: (r.resources || []).join(" "),
  };
  for (const [k, v] of Object.entries(vars)) {
    if (typeof v !== "string" || !v) throw new Error("ready line lacks " + k);
    console.log(`export ${k}=${q(v)}`);
  }
' "$ready")" || { echo "with-oidc-server: could not parse the ready line: $ready" >&2; exit 1; }
eval "$exports"

"$@" {stdin_fd}>&-
status=$?
exit "$status"
