#!/usr/bin/env bash
# Go: go vet; the binding's tests and examples under -race against the real OIDC provider, then
# again with GOGC=1 GODEBUG=cgocheck=1 (a GC at nearly every allocation, cgo pointer checks); a
# benchmark smoke run; and examples/go built as a user would (a module with a replace directive)
# and run against the local server (it must print an 8-character token prefix and the expiry).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash scripts/build.sh
# The OIDC test server with private_key_jwt clients registered (testing/with-jwt-clients.sh), and a
# Redis for the fleet cache test (RAPTOKEN_TEST_REDIS_URL).
with_server=("$root/testing/with-oidc-server.sh" "$root/testing/with-jwt-clients.sh" "$root/testing/with-redis.sh")

cd "$root/bindings/go"
# The library changes under a Go build cache that does not look at libraptoken.a's contents:
# -count=1 disables test caching, and cgo packages are relinked for every test binary.
go vet ./...
echo "--- go test -race"
"${with_server[@]}" go test -race -count=1 ./...
echo "--- go test -race with GOGC=1 GODEBUG=cgocheck=1"
GOGC=1 GODEBUG=cgocheck=1 "${with_server[@]}" go test -race -count=1 ./...
echo "--- benchmark smoke run"
"${with_server[@]}" go test -count=1 -run '^$' -bench . -benchtime=100x -benchmem ./... | grep -v '^ok'

echo "--- examples/go"
cd "$root/examples/go"
go vet ./...
mkdir -p "$root/target/go"
go build -o "$root/target/go/raptoken-example" .
out=$("${with_server[@]}" bash -c '
  RAPIDATA_CLIENT_ID=demo-client RAPIDATA_CLIENT_SECRET=demo-secret \
  RAPIDATA_ISSUER="$RAPTOKEN_TEST_ISSUER" RAPIDATA_CA_FILE="$RAPTOKEN_TEST_CA_FILE" \
  SSL_CERT_FILE="$RAPTOKEN_TEST_CA_FILE" RAPTOKEN_EXAMPLE_API="$RAPTOKEN_TEST_API" \
  LD_LIBRARY_PATH= "$0"' "$root/target/go/raptoken-example")
echo "$out"
grep -qx 'status: 200 OK' <<<"$out" || { echo "examples/go: expected 'status: 200 OK'"; exit 1; }
grep -Eqx 'token: .{8}\.\.\. \([0-9]+ characters\)' <<<"$out" || { echo "examples/go: expected an 8-character token prefix"; exit 1; }
# The expiry in ISO 8601 UTC, about an hour away (the test server's token lifetime).
expires=$(sed -n 's/^expires: \([0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z\)$/\1/p' <<<"$out")
[ -n "$expires" ] || { echo "examples/go: expected 'expires: YYYY-MM-DDTHH:MM:SSZ'"; exit 1; }
left=$(( $(date -u -d "$expires" +%s) - $(date -u +%s) ))
(( left > 3000 && left <= 3600 )) || { echo "examples/go: expires $expires is $left s away, want about 1 h"; exit 1; }
if ldd "$root/target/go/raptoken-example" | grep -q libraptoken; then
  echo "examples/go: the program depends on libraptoken.so; it should link the static archive"; exit 1
fi
echo "go: vet, tests (race, GOGC=1), benchmark smoke run and example ok"
