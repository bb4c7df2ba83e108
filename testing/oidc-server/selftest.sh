#!/usr/bin/env bash
# Self-test of the test OIDC server with curl. Run it through the wrapper:
#   testing/with-oidc-server.sh testing/oidc-server/selftest.sh
# Takes about 6 s (it waits for a 3-second token to expire). Ends with "N passed, N failed".
set -uo pipefail

: "${RAPTOKEN_TEST_ISSUER:?run me via testing/with-oidc-server.sh}"
iss="$RAPTOKEN_TEST_ISSUER"
tok="$RAPTOKEN_TEST_TOKEN_ENDPOINT"
api="$RAPTOKEN_TEST_API"
admin="$RAPTOKEN_TEST_ADMIN"
ca="$RAPTOKEN_TEST_CA_FILE"

pass=0
fail=0
check() { # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    pass=$((pass + 1)); echo "ok   - $1"
  else
    fail=$((fail + 1)); echo "FAIL - $1: expected [$2], got [$3]"
  fi
}
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split(".")) v=v?.[k];console.log(v===undefined?"":typeof v==="object"?JSON.stringify(v):v)})' "$1"; }
c() { curl -sS --max-time 20 --cacert "$ca" "$@"; }
# RFC 6749 2.3.1: application/x-www-form-urlencoded encoding (space as "+")
formenc() { node -e 'process.stdout.write(new URLSearchParams([["",process.argv[1]]]).toString().slice(1))' "$1"; }
basic() { printf 'Authorization: Basic %s' "$(printf '%s:%s' "$(formenc "$1")" "$(formenc "$2")" | base64 -w0)"; }

# Discovery
disc="$(c "$iss/.well-known/openid-configuration")"
check "discovery issuer has a trailing slash" "$iss/" "$(jget issuer <<<"$disc")"
check "discovery token_endpoint" "$tok" "$(jget token_endpoint <<<"$disc")"
check "wrong CA is a TLS error" "60" "$(curl -sS -o /dev/null --cacert "$RAPTOKEN_TEST_WRONG_CA_FILE" "$iss/.well-known/openid-configuration" 2>/dev/null; echo $?)"
check "https://127.0.0.1 is covered by the certificate" "200" "$(c -o /dev/null -w '%{http_code}' "https://127.0.0.1:${iss##*:}/.well-known/openid-configuration")"

c -X POST "$admin/reset" >/dev/null

# Successful token requests
r="$(c -H "$(basic basic-0 secret-basic-0)" -d grant_type=client_credentials -d 'scope=openid roles' "$tok")"
check "basic-0 via Basic: scope" "openid roles" "$(jget scope <<<"$r")"
check "basic-0 via Basic: expires_in" "3600" "$(jget expires_in <<<"$r")"
basic0_token="$(jget access_token <<<"$r")"
r="$(c -d grant_type=client_credentials -d client_id=post-0 -d client_secret=secret-post-0 -d scope=email "$tok")"
check "post-0 via body: token_type" "Bearer" "$(jget token_type <<<"$r")"
secret='s3cr+t: /%&= x'
r="$(c -H "$(basic special "$secret")" -d grant_type=client_credentials "$tok")"
check "special via Basic (form-urlencoded, space as +)" "Bearer" "$(jget token_type <<<"$r")"
pct="$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$secret")"
r="$(c -H "Authorization: Basic $(printf 'special:%s' "$pct" | base64 -w0)" -d grant_type=client_credentials "$tok")"
check "special via Basic (space as %20)" "Bearer" "$(jget token_type <<<"$r")"
r="$(c -u "special:$secret" -d grant_type=client_credentials "$tok")"
check "special via Basic without form-encoding is rejected" "invalid_request" "$(jget error <<<"$r")"
r="$(c --data-urlencode grant_type=client_credentials --data-urlencode client_id=special-post \
  --data-urlencode "client_secret=$secret" "$tok")"
check "special-post via body" "Bearer" "$(jget token_type <<<"$r")"
r="$(c -H "$(basic demo-client demo-secret)" -d grant_type=client_credentials "$tok")"
check "demo-client" "Bearer" "$(jget token_type <<<"$r")"

# Errors
code="$(c -o "$RAPTOKEN_TEST_SERVER_DIR/out.json" -w '%{http_code}' -H "$(basic basic-0 wrong)" -d grant_type=client_credentials "$tok")"
check "wrong secret: HTTP 401" "401" "$code"
check "wrong secret: invalid_client" "invalid_client" "$(jget error <"$RAPTOKEN_TEST_SERVER_DIR/out.json")"
code="$(c -o "$RAPTOKEN_TEST_SERVER_DIR/out.json" -w '%{http_code}' -H "$(basic basic-0 secret-basic-0)" -d grant_type=client_credentials -d 'scope=openid admin' "$tok")"
check "scope outside the allow-list: HTTP 400" "400" "$code"
check "scope outside the allow-list: invalid_scope" "invalid_scope" "$(jget error <"$RAPTOKEN_TEST_SERVER_DIR/out.json")"
r="$(c -d grant_type=client_credentials -d client_id=basic-1 -d client_secret=secret-basic-1 "$tok")"
check "basic-1 via body (wrong method) is invalid_client" "invalid_client" "$(jget error <<<"$r")"
r="$(c -H "$(basic post-1 secret-post-1)" -d grant_type=client_credentials "$tok")"
check "post-1 via Basic (wrong method) is invalid_client" "invalid_client" "$(jget error <<<"$r")"

# Counters
s="$(c "$admin/stats")"
check "stats: total token requests" "11" "$(jget token_requests <<<"$s")"
check "stats: basic-0" "3" "$(jget by_client.basic-0 <<<"$s")"
check "stats: special" "3" "$(jget by_client.special <<<"$s")"
check "stats?client_id=post-1" '{"token_requests":1}' "$(c "$admin/stats?client_id=post-1" | tr -d '\n')"
check "stats?client_id=unknown" '{"token_requests":0}' "$(c "$admin/stats?client_id=nobody" | tr -d '\n')"

# Protected API
r="$(c -H "Authorization: Bearer $basic0_token" "$api")"
check "/api/v1/me with a valid token" '{"client_id":"basic-0","scope":"openid roles"}' "$r"
code="$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope" "$api")"
check "/api/v1/me with a bogus token: 401" "401" "$code"
hdr="$(c -o /dev/null -D - "$api" | tr -d '\r' | grep -i '^www-authenticate:')"
check "/api/v1/me without a token: WWW-Authenticate" 'www-authenticate: Bearer error="invalid_token"' "$hdr"
check "stats: api_calls" "3" "$(c "$admin/stats" | jget api_calls)"

# Revocation
c -X POST "$admin/revoke?client_id=basic-0" >/dev/null
code="$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $basic0_token" "$api")"
check "revoked token: 401" "401" "$code"
t2="$(c -H "$(basic basic-0 secret-basic-0)" -d grant_type=client_credentials "$tok" | jget access_token)"
code="$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t2" "$api")"
check "token issued after revoke: 200" "200" "$code"

# Reset
c -X POST "$admin/reset" >/dev/null
check "reset" '{"token_requests":0,"by_client":{},"api_calls":0}' "$(c "$admin/stats" | tr -d '\n')"

# Delay for slow-* clients
c -X POST "$admin/delay?ms=1500" >/dev/null
t="$(c -o /dev/null -w '%{time_total}' -H "$(basic slow-0 secret-slow-0)" -d grant_type=client_credentials "$tok")"
check "slow-0 delayed >= 1.5 s" "yes" "$(node -p "$t >= 1.5 ? 'yes' : 'no ($t s)'")"
t="$(c -o /dev/null -w '%{time_total}' -H "$(basic basic-2 secret-basic-2)" -d grant_type=client_credentials "$tok")"
check "basic-2 not delayed" "yes" "$(node -p "$t < 1 ? 'yes' : 'no ($t s)'")"
c -X POST "$admin/delay?ms=0" >/dev/null

# Short-lived tokens
r="$(c -H "$(basic short-0 secret-short-0)" -d grant_type=client_credentials "$tok")"
check "short-0 expires_in" "3" "$(jget expires_in <<<"$r")"
st="$(jget access_token <<<"$r")"
check "short-0 token valid at once" "200" "$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $st" "$api")"
sleep 4
check "short-0 token rejected after 4 s" "401" "$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $st" "$api")"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
