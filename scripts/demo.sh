#!/usr/bin/env bash
# `make demo`: raptoken working end to end in a few minutes, without an account or internet
# (package registries aside, for the first install). Installs what is missing (scripts/setup.sh),
# builds the library, the raptoken CLI and the C, C++, Go and C# examples the way their test
# suites do, starts the local OpenID provider (testing/oidc-server/start), runs every program
# against it, prints one line per program (token prefix, expiry, API status) and how many token
# requests the server saw, then stops the server. Exit 0 only if everything that exists ran.
# Compiler output goes to target/demo/build.log, shown only if a build fails.
#
# Environment: RAPTOKEN_DEMO_SKIP_SETUP=1 skips scripts/setup.sh (CI has just run it).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

work=$root/target/demo
rm -rf "$work"
mkdir -p "$work/bin"
log=$work/build.log
: >"$log"
t0=$SECONDS
failed=0
server_pid=""
front_pid=""

cleanup() {
  # The RSA front exits when its stdin closes; the server on SIGTERM.
  if [ -n "${front_in:-}" ]; then exec {front_in}>&-; fi
  for pid in $front_pid $server_pid; do
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
fail() { say "  $*"; failed=1; }
# quiet CMD...: runs CMD with its output in the build log; on failure shows the log's end.
quiet() {
  printf '\n$ %s\n' "$*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    say "  FAILED: $*"
    tail -n 25 "$log" | sed 's/^/    | /'
    return 1
  fi
}
elapsed() { echo "$(( SECONDS - $1 )) s"; }

say "raptoken demo: a local OpenID provider, the library from C, C++, Go and C#, and the raptoken CLI"

# --- setup --------------------------------------------------------------------------------------
t=$SECONDS
if [ "${RAPTOKEN_DEMO_SKIP_SETUP:-}" != 1 ]; then
  quiet bash scripts/setup.sh || { say "demo FAILED: setup"; exit 1; }
fi
say "  setup     ok ($(elapsed "$t"))"

# --- build ----------------------------------------------------------------------------------------
# Which programs exist in this checkout: an example that has not landed yet is skipped, not failed.
declare -A built
for lang in c cpp go csharp; do built[$lang]=missing; done
[ -f examples/c/call_api.c ] && built[c]=no
[ -f examples/cpp/CMakeLists.txt ] && built[cpp]=no
[ -f examples/go/main.go ] && built[go]=no
[ -f examples/csharp/Program.cs ] && [ -d bindings/csharp/Rapidata.Raptoken ] && built[csharp]=no

t=$SECONDS
prefix=$work/prefix
# The library, installed into a prefix as a user would (pkg-config file and CMake package included).
quiet bash scripts/install.sh "$prefix" || { say "demo FAILED: building the library"; exit 1; }
quiet bash scripts/build.sh --bin raptoken || { say "demo FAILED: building the CLI"; exit 1; }
cli=$root/target/release/raptoken
names=(library CLI)

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
if [ "${built[c]}" = no ]; then
  # shellcheck disable=SC2046  # pkg-config output is meant to be split
  quiet cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags raptoken libcurl) examples/c/call_api.c \
    $(pkg-config --libs raptoken libcurl) -o "$work/bin/c" && built[c]=yes && names+=(C)
fi
if [ "${built[cpp]}" = no ]; then
  quiet cmake -S examples/cpp -B "$work/cpp" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release &&
    quiet cmake --build "$work/cpp" && cp "$work/cpp/call_api" "$work/bin/cpp" && built[cpp]=yes && names+=(C++)
fi
if [ "${built[go]}" = no ]; then
  # The binding links target/release/libraptoken.a (built above) statically.
  (cd examples/go && quiet go build -o "$work/bin/go" .) && built[go]=yes && names+=(Go)
fi
if [ "${built[csharp]}" = no ]; then
  mapfile -t cs_sources < <(find bindings/csharp/Rapidata.Raptoken -name '*.cs' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
  quiet mcs -langversion:7.2 -nologo -target:library -r:System.Net.Http.dll -out:"$work/bin/Rapidata.Raptoken.dll" \
    "${cs_sources[@]}" &&
    quiet mcs -langversion:7.2 -nologo -target:exe -r:"$work/bin/Rapidata.Raptoken.dll" -r:System.Net.Http.dll \
      -out:"$work/bin/csharp.exe" examples/csharp/*.cs && built[csharp]=yes && names+=(C#)
fi
for lang in c cpp go csharp; do [ "${built[$lang]}" = no ] && failed=1; done
say "  build     ${names[*]} ($(elapsed "$t"); compiler output in target/demo/build.log)"

# --- server ---------------------------------------------------------------------------------------
t=$SECONDS
testing/oidc-server/start >"$work/server.json" 2>>"$log" &
server_pid=$!
ready=""
for _ in $(seq 300); do  # at most 30 s
  if [ -s "$work/server.json" ] && IFS= read -r ready <"$work/server.json" && [ -n "$ready" ]; then break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$ready" ] || { say "demo FAILED: the OpenID provider did not start (see $log)"; exit 1; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
issuer=$(field issuer) api=$(field api) admin=$(field admin) ca=$(field ca_file)
say "  server    $issuer, started by testing/oidc-server/start ($(elapsed "$t")); client demo-client"

# Every program gets the same settings, through the library's environment variables only.
demo_env=(env -u RAPIDATA_TOKEN_ENDPOINT -u RAPIDATA_ENVIRONMENT -u RAPIDATA_SCOPE -u RAPIDATA_AUTH_METHOD
  -u RAPIDATA_CREDENTIALS_FILE RAPIDATA_CLIENT_ID=demo-client RAPIDATA_CLIENT_SECRET=demo-secret
  RAPIDATA_ISSUER="$issuer" RAPIDATA_CA_FILE="$ca" RAPTOKEN_EXAMPLE_API="$api")

# --- programs -------------------------------------------------------------------------------------
say ""
printf '  %-9s %-12s %-22s %s\n' program token expires API
row() { printf '  %-9s %-12s %-22s %s\n' "$@"; }

# example NAME LANG CMD...: runs an example (bounded), then prints its row from its output:
# "token: XXXXXXXX..." (the examples print only 8 characters of a token) and the API status.
example() {
  local name=$1 lang=$2 out prefix status expires
  shift 2
  case ${built[$lang]} in
    missing) row "$name" "-" "-" "not built yet: examples/$lang has not landed"; return ;;
    no) row "$name" "-" "-" "build FAILED (see target/demo/build.log)"; return ;;
  esac
  out=$(timeout 60 "${demo_env[@]}" "$@" 2>&1)
  local rc=$?
  runs=$((runs + 1))
  prefix=$(grep -oE 'token: [^ .]{8}' <<<"$out" | head -n 1 | cut -c8-)
  status=$(grep -oE '(status|GET [^ ]*): [0-9]{3}' <<<"$out" | grep -oE '[0-9]{3}$' | head -n 1)
  expires=$(grep -ioE 'expir[a-z]*:? +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z?' <<<"$out" | head -n 1 | grep -oE '[0-9]{4}-.*')
  row "$name" "${prefix:-?}..." "${expires:-(not printed)}" "${status:-?}"
  if [ "$rc" != 0 ] || [ "$status" != 200 ] || [ -z "$prefix" ]; then
    fail "$name FAILED (exit $rc):"
    sed 's/^/    | /' <<<"$out"
  fi
}

runs=0
example C c "$work/bin/c"
example C++ cpp "$work/bin/cpp"
example Go go env SSL_CERT_FILE="$ca" "$work/bin/go"

if [ "${built[csharp]}" = yes ]; then
  # Mono's HttpClient cannot verify the server's ECDSA certificate chain, so (as in the C# test
  # suite) its API call goes through an HTTPS front with an RSA certificate. libraptoken itself
  # talks to the provider directly.
  cs_ca=$ca cs_api=$api
  (
    cd "$work" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout front-ca-key.pem -subj "/CN=raptoken demo front CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" -days 1 -out front-ca.pem &&
      openssl req -new -newkey rsa:2048 -nodes -keyout front-key.pem -subj "/CN=localhost" -out front.csr &&
      printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >front.ext &&
      openssl x509 -req -in front.csr -CA front-ca.pem -CAkey front-ca-key.pem -set_serial 1 -days 1 \
        -extfile front.ext -out front.pem
  ) >>"$log" 2>&1
  mkfifo "$work/front-stdin"
  exec {front_in}<>"$work/front-stdin"
  node bindings/csharp/testing/rsa-front.mjs "$work/front.pem" "$work/front-key.pem" "${issuer}" "$ca" \
    <"$work/front-stdin" >"$work/front-port" 2>>"$log" &
  front_pid=$!
  for _ in $(seq 100); do [ -s "$work/front-port" ] && break; sleep 0.05; done
  if port=$(head -n 1 "$work/front-port") && [ -n "$port" ]; then
    cat "$ca" "$work/front-ca.pem" >"$work/ca-bundle.pem"
    cs_ca=$work/ca-bundle.pem cs_api="https://localhost:$port${api#"$issuer"}"
  fi
  example C# csharp env RAPIDATA_CA_FILE="$cs_ca" RAPTOKEN_EXAMPLE_API="$cs_api" \
    LD_LIBRARY_PATH="$root/target/release" mono "$work/bin/csharp.exe"
else
  example C# csharp true
fi

# The CLI: `token --json` for the row, then the README's idiom against the API, then `check`.
cli_json=$("${demo_env[@]}" "$cli" token --json 2>&1)
cli_rc=$?
read -r cli_prefix cli_expires < <(python3 -c '
import json, sys
try:
    j = json.loads(sys.argv[1]); print(j["access_token"][:8], j["expires_at"])
except Exception:
    print("? ?")' "$cli_json")
api_status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$ca" \
  -H "Authorization: Bearer $("${demo_env[@]}" "$cli" token)" "$api")
row CLI "$cli_prefix..." "$cli_expires" "$api_status"
[ "$cli_rc" = 0 ] && [ "$api_status" = 200 ] || fail "CLI FAILED (exit $cli_rc, API $api_status): $(head -c 300 <<<"$cli_json" | grep -v access_token)"

say ""
say "  \$ raptoken check"
check_out=$("${demo_env[@]}" "$cli" check 2>&1)
check_rc=$?
sed 's/^/    /' <<<"$check_out"
[ "$check_rc" = 0 ] || fail "raptoken check FAILED (exit $check_rc)"

# --- what the server saw --------------------------------------------------------------------------
requests=$(curl -s --max-time 10 "$admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token_requests"])' 2>/dev/null)
say ""
say "  server    saw ${requests:-?} token requests (admin API /stats); expected $((runs + 3)): one per example run ($runs)"
say "            and one per CLI run (token --json, token, check). Each process fetched once, then used its cache."
[ "$requests" = $((runs + 3)) ] || fail "the server saw ${requests:-?} token requests, expected $((runs + 3))"

if [ "$failed" = 0 ]; then
  say "demo ok in $(elapsed "$t0")"
else
  say "demo FAILED after $(elapsed "$t0")"
fi
exit "$failed"
