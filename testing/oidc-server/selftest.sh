#!/usr/bin/env bash
# Self-test of the test OIDC server with curl. Run it through the wrapper:
#   testing/with-oidc-server.sh testing/oidc-server/selftest.sh
# Takes about 8 s (it waits for a 3-second token to expire, and for stalls). Ends with "N passed, N failed".
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
command -v jq >/dev/null || { echo "selftest needs jq (scripts/setup.sh installs it)"; exit 1; }
# jget a.b.0 <JSON: that value; objects and arrays as compact JSON, null or missing as ""
jget() { jq -r --arg p "$1" 'getpath($p | split(".") | map(tonumber? // .))
  | if . == null then "" elif type == "object" or type == "array" then tojson else tostring end'; }
c() { curl -sS --max-time 20 --cacert "$ca" "$@"; }
# RFC 6749 2.3.1: application/x-www-form-urlencoded encoding (space as "+")
formenc() {
  if [[ $1 =~ ^[A-Za-z0-9_-]*$ ]]; then printf '%s' "$1"; return; fi  # nothing to encode
  node -e 'process.stdout.write(new URLSearchParams([["",process.argv[1]]]).toString().slice(1))' -- "$1"
}
basic() { printf 'Authorization: Basic %s' "$(printf '%s:%s' "$(formenc "$1")" "$(formenc "$2")" | base64 -w0)"; }

# A second server with the startup options, checked near the end (it starts meanwhile).
coproc second { node "$(dirname "$0")/server.mjs" --cert-key rsa --no-bridge 2>/dev/null; }

# Short-lived tokens: one now, checked after 4 s at the end.
short_issued="$(date +%s%N)"
r="$(c -H "$(basic short-0 secret-short-0)" -d grant_type=client_credentials "$tok")"
check "short-0 expires_in" "3" "$(jget expires_in <<<"$r")"
st="$(jget access_token <<<"$r")"
check "short-0 token valid at once" "200" "$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $st" "$api")"

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

# --- Login bridge (Rapidata's workstation login) ---------------------------------------------
b="$RAPTOKEN_TEST_SERVER_DIR/selftest"
mkdir -p "$b"
code_of() { c -o "$b/body" -w '%{http_code}' "$@"; }  # status; body in $b/body
login() { c -X POST "$iss/identity/bridge-token?clientId=rapidata-cli"; }
poll() { code_of "$iss/identity/bridge-token?readKey=$1"; }
page() { code_of "$iss/connect/authorize/external?clientId=rapidata-cli&scope=openid%20profile%20email%20api&writeKey=$1"; }
a() { curl -sS --max-time 20 "$@"; }  # admin API
json_post() { c -H 'Content-Type: application/json' -d "$@"; }

check "bridge: wrong clientId is 400" "400" "$(code_of -X POST "$iss/identity/bridge-token?clientId=someone")"
r="$(login)"; rk="$(jget readKey <<<"$r")"; wk="$(jget writeKey <<<"$r")"
check "bridge: POST gives readKey and writeKey" "yes" "$([[ ${#rk} -ge 20 && ${#wk} -ge 20 && $rk != "$wk" ]] && echo yes)"
check "bridge: poll before approval is 202" "202" "$(poll "$rk")"
check "bridge: login page is 200" "200" "$(page "$wk")"
check "bridge: login page is HTML" "yes" "$(grep -q '<form method="post"' "$b/body" && echo yes)"
l="$(a "$admin/logins?writeKey=$wk")"
check "admin /logins: page opened once" "1" "$(jget opened <<<"$l")"
check "admin /logins: scope as opened" "openid profile email api" "$(jget opened_query.scope <<<"$l")"
check "admin /logins: polls" "1" "$(jget polls <<<"$l")"
check "admin /login/approve" "approved" "$(a -X POST "$admin/login/approve?writeKey=$wk" | jget state)"
check "bridge: poll after approval is 200" "200" "$(poll "$rk")"
at="$(jget accessToken <"$b/body")"
check "bridge: accessToken is a real token of this server" "rapidata-cli" "$(c -H "Authorization: Bearer $at" "$api" | jget client_id)"
check "bridge: collected readKey is 404" "404" "$(poll "$rk")"
check "/Client without a bearer token is 401" "401" "$(code_of -H 'Content-Type: application/json' -d '{"displayName":"x"}' "$iss/Client")"
check "/Client with a wrong bearer token is 401" "401" "$(code_of -H "Authorization: Bearer $basic0_token" -H 'Content-Type: application/json' -d '{"displayName":"x"}' "$iss/Client")"
check "/Client wrong bearer: invalid_token" "invalid_token" "$(jget error <"$b/body")"
check "/Client with a non-JSON body is 415" "415" "$(code_of -H "Authorization: Bearer $at" -d 'displayName=x' "$iss/Client")"
check "/Client without displayName is 400" "400" "$(code_of -H "Authorization: Bearer $at" -H 'Content-Type: application/json' -d '{}' "$iss/Client")"
check "/Client with the bridge token is 200" "200" "$(code_of -H "Authorization: Bearer $at" -H 'Content-Type: application/json' -d '{"displayName":"selftest - raptoken"}' "$iss/Client")"
cid="$(jget clientId <"$b/body")"; csec="$(jget clientSecret <"$b/body")"
check "/Client: the bridge token works only once" "401" "$(code_of -H "Authorization: Bearer $at" -H 'Content-Type: application/json' -d '{"displayName":"again"}' "$iss/Client")"
check "created client via Basic" "openid roles" "$(c -H "$(basic "$cid" "$csec")" -d grant_type=client_credentials -d 'scope=openid roles' "$tok" | jget scope)"
check "created client via body" "Bearer" "$(c --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$cid" --data-urlencode "client_secret=$csec" "$tok" | jget token_type)"
cl="$(a "$admin/clients?client_id=$cid")"
check "admin /clients: display name" "selftest - raptoken" "$(jget display_name <<<"$cl")"
check "admin /clients: origin and token requests" "login 2" "$(jget origin <<<"$cl") $(jget token_requests <<<"$cl")"
check "admin /clients never shows a secret" "no" "$(a "$admin/clients" | grep -qF -- "$csec" && echo yes || echo no)"
check "admin /logins: created client" "$cid" "$(a "$admin/logins?writeKey=$wk" | jget created_client_id)"
check "admin DELETE /clients" "true" "$(a -X DELETE "$admin/clients?client_id=$cid" | jget ok)"
check "deleted client: 401 invalid_client" "401 invalid_client" "$(code_of -H "$(basic "$cid" "$csec")" -d grant_type=client_credentials "$tok") $(jget error <"$b/body")"
check "admin DELETE of a static client is 409" "409" "$(a -o /dev/null -w '%{http_code}' -X DELETE "$admin/clients?client_id=basic-0")"

# refused, expired, unknown keys
r="$(login)"; rk="$(jget readKey <<<"$r")"; wk="$(jget writeKey <<<"$r")"
check "admin /login/refuse (the only pending login)" "refused" "$(a -X POST "$admin/login/refuse" | jget state)"
check "bridge: refused login polls 403" "403 access_denied" "$(poll "$rk") $(jget error <"$b/body")"
check "bridge: refused readKey is gone" "404" "$(poll "$rk")"
check "admin: approving a refused login is 409" "409" "$(a -o /dev/null -w '%{http_code}' -X POST "$admin/login/approve?writeKey=$wk")"
r="$(login)"; rk="$(jget readKey <<<"$r")"; wk="$(jget writeKey <<<"$r")"
check "admin /login/expire" "1" "$(a -X POST "$admin/login/expire?writeKey=$wk" | jget expired)"
check "bridge: expired login polls 410" "410 expired_token" "$(poll "$rk") $(jget error <"$b/body")"
check "bridge: expired login page is 410" "410" "$(page "$wk")"
check "bridge: unknown readKey is 404" "404" "$(poll nonsense)"
check "bridge: missing readKey is 400" "400" "$(code_of "$iss/identity/bridge-token")"
check "bridge: unknown writeKey page is 404" "404" "$(page nonsense)"
check "admin: approve with no pending login is 404" "404" "$(a -o /dev/null -w '%{http_code}' -X POST "$admin/login/approve")"
r1="$(login)"; r2="$(login)"
check "admin: approve with two pending logins is 409" "409" "$(a -o /dev/null -w '%{http_code}' -X POST "$admin/login/approve")"
a -X POST "$admin/login/expire" >/dev/null

# the page's own form (a person at a browser)
r="$(login)"; rk="$(jget readKey <<<"$r")"; wk="$(jget writeKey <<<"$r")"
check "login page form: approve" "200" "$(code_of --data-urlencode "writeKey=$wk" -d decision=approve "$iss/connect/authorize/external")"
check "login page form: decided by the browser" "browser" "$(a "$admin/logins?writeKey=$wk" | jget decided_by)"
check "bridge: poll after browser approval is 200" "200" "$(poll "$rk")"

# auto-approve after N polls, auto-refuse
check "admin /login/auto?after=2" '{"after":2,"action":"approve"}' "$(a -X POST "$admin/login/auto?after=2" | jget auto)"
r="$(login)"; rk="$(jget readKey <<<"$r")"
check "auto-approve: polls 202, 202, 200" "202 202 200" "$(poll "$rk") $(poll "$rk") $(poll "$rk")"
a -X POST "$admin/login/auto?after=0&action=refuse" >/dev/null
r="$(login)"; rk="$(jget readKey <<<"$r")"
check "auto-refuse after 0 polls: 403" "403" "$(poll "$rk")"
check "admin /login/auto?after=off" "" "$(a -X POST "$admin/login/auto?after=off" | jget auto)"
check "admin /login/auto with a bad value is 400" "400" "$(a -o /dev/null -w '%{http_code}' -X POST "$admin/login/auto?after=soon")"

# a server that is not Rapidata's
check "admin /bridge?enabled=0" "false" "$(a -X POST "$admin/bridge?enabled=0" | jget enabled)"
check "bridge disabled: POST bridge-token is 404" "404" "$(code_of -X POST "$iss/identity/bridge-token?clientId=rapidata-cli")"
check "bridge disabled: /Client is 404" "404" "$(code_of -H 'Content-Type: application/json' -d '{}' "$iss/Client")"
check "bridge disabled: login page is 404" "404" "$(page x)"
a -X POST "$admin/bridge?enabled=1" >/dev/null
check "bridge enabled again" "200" "$(code_of -X POST "$iss/identity/bridge-token?clientId=rapidata-cli")"
a -X POST "$admin/login/expire" >/dev/null

# --- private_key_jwt (RFC 7523) and resource indicators (RFC 8707) ---------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$b/ec.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$b/rsa.pem" 2>/dev/null
openssl pkey -in "$b/ec.pem" -pubout -out "$b/ec.pub"
# sign KEY.pem ALG KID CLAIMS_JSON: a compact JWS (RS256, PS256 or ES256)
sign() { node -e '
  const crypto = require("crypto"), fs = require("fs");
  const [file, alg, kid, claims] = process.argv.slice(1);
  const key = crypto.createPrivateKey(fs.readFileSync(file));
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const header = { alg, typ: "JWT" }; if (kid) header.kid = kid;
  const input = `${b64(header)}.${b64(JSON.parse(claims))}`;
  const opts = alg[0] === "E" ? { key, dsaEncoding: "ieee-p1363" }
    : alg[0] === "P" ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : { key };
  process.stdout.write(`${input}.${crypto.sign("sha256", Buffer.from(input), opts).toString("base64url")}`);
' "$@"; }
now="$(date +%s)"
claims() { printf '{"iss":"%s","sub":"%s","aud":"%s","jti":"%s","iat":%s,"exp":%s}' "$1" "$1" "$2" "$3" "$now" "$4"; }
T=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
jwt_token() { code_of -d grant_type=client_credentials -d client_assertion_type=$T -d "client_assertion=$1" "${@:2}" "$tok"; }
pem="$(jq -Rs . "$b/ec.pub")"
r="$(a -H 'Content-Type: application/json' -d "{\"public_key_pem\":$pem,\"kid\":\"ec-1\"}" "$admin/clients")"
ec="$(jget client_id <<<"$r")"
check "admin POST /clients: private_key_jwt client from a PEM" "private_key_jwt ec-1" "$(jget token_endpoint_auth_method <<<"$r") $(jget jwks.keys.0.kid <<<"$r")"
jwks="$(node -e 'const c=require("crypto");const k=c.createPublicKey(require("fs").readFileSync(process.argv[1])).export({format:"jwk"});console.log(JSON.stringify({keys:[{...k,kid:"rsa-1"}]}))' "$b/rsa.pem")"
r="$(a -H 'Content-Type: application/json' -d "{\"client_id\":\"selftest-rsa\",\"jwks\":$jwks,\"assertion_audience\":\"token_endpoint\"}" "$admin/clients")"
check "admin POST /clients: RSA JWKS, audience token endpoint only" "selftest-rsa" "$(jget client_id <<<"$r")"
check "admin POST /clients: same client_id again is 409" "409" "$(a -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "{\"client_id\":\"selftest-rsa\",\"jwks\":$jwks}" "$admin/clients")"
check "admin POST /clients: a bad JWK is 400" "400" "$(a -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"BB"}]}}' "$admin/clients")"
privpem="$(jq -Rs . "$b/ec.pem")"
check "admin POST /clients: a private key is refused" "400" "$(a -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "{\"public_key_pem\":$privpem}" "$admin/clients")"

es="$(sign "$b/ec.pem" ES256 ec-1 "$(claims "$ec" "$tok" jti-1 $((now + 60)))")"
check "private_key_jwt ES256 (aud = token endpoint)" "200" "$(jwt_token "$es" -d 'scope=openid' -d audience=https://aud.example.test/ -d resource=https://api.example.test/)"
t="$(jget access_token <"$b/body")"
check "resource: the token's audience" "https://api.example.test/" "$(c -H "Authorization: Bearer $t" "$api" | jget aud)"
rq="$(a "$admin/requests?client_id=$ec&n=1" | jget requests.0)"
check "/requests: auth method" "private_key_jwt" "$(jget auth <<<"$rq")"
check "/requests: audience and resource received" '["https://aud.example.test/"] ["https://api.example.test/"]' "$(jget params.audience <<<"$rq") $(jget params.resource <<<"$rq")"
check "/requests: assertion header and claims" "ES256 ec-1 jti-1 $ec" "$(jget client_assertion.header.alg <<<"$rq") $(jget client_assertion.header.kid <<<"$rq") $(jget client_assertion.claims.jti <<<"$rq") $(jget client_assertion.claims.sub <<<"$rq")"
check "/requests: the assertion itself is not kept" "no" "$(grep -qF -- "${es##*.}" <<<"$rq" && echo yes || echo no)"
check "/requests: param_names has client_assertion, params does not" "yes " "$(grep -q '"client_assertion"' <<<"$(jget param_names <<<"$rq")" && echo yes) $(jget params.client_assertion <<<"$rq")"
check "replayed jti: 401 invalid_client" "401 invalid_client" "$(jwt_token "$es") $(jget error <"$b/body")"
check "/requests: why (replay)" "client assertion tokens must only be used once" "$(a "$admin/requests?client_id=$ec&n=1" | jget requests.0.error_detail)"
check "expired assertion: 401" "401" "$(jwt_token "$(sign "$b/ec.pem" ES256 "" "$(claims "$ec" "$tok" jti-2 $((now - 1)))")")"
check "/requests: why (expired)" "jwt expired" "$(a "$admin/requests?client_id=$ec&n=1" | jget requests.0.error_detail)"
check "assertion signed with another key: 401" "401" "$(jwt_token "$(sign "$b/rsa.pem" RS256 "" "$(claims "$ec" "$tok" jti-3 $((now + 60)))")")"
check "aud = the issuer (with its slash) is accepted" "200" "$(jwt_token "$(sign "$b/ec.pem" ES256 "" "$(claims "$ec" "$iss/" jti-4 $((now + 60)))")")"
check "aud = the issuer without its slash: 401" "401" "$(jwt_token "$(sign "$b/ec.pem" ES256 "" "$(claims "$ec" "$iss" jti-5 $((now + 60)))")")"
check "private_key_jwt RS256" "200" "$(jwt_token "$(sign "$b/rsa.pem" RS256 rsa-1 "$(claims selftest-rsa "$tok" jti-1 $((now + 60)))")")"
check "private_key_jwt PS256" "200" "$(jwt_token "$(sign "$b/rsa.pem" PS256 rsa-1 "$(claims selftest-rsa "$tok" jti-2 $((now + 60)))")")"
check "assertion_audience token_endpoint: aud = issuer is 401" "401" "$(jwt_token "$(sign "$b/rsa.pem" RS256 rsa-1 "$(claims selftest-rsa "$iss/" jti-3 $((now + 60)))")")"
check "a client secret for a private_key_jwt client: 401" "401" "$(code_of -H "$(basic selftest-rsa x)" -d grant_type=client_credentials "$tok")"
check "two resources: 400 invalid_target" "400 invalid_target" "$(code_of -H "$(basic basic-0 secret-basic-0)" -d grant_type=client_credentials -d resource=https://api.example.test/ -d resource=urn:raptoken:test-api "$tok") $(jget error <"$b/body")"
check "/requests: both resources received" '["https://api.example.test/","urn:raptoken:test-api"]' "$(a "$admin/requests?client_id=basic-0&n=1" | jget requests.0.params.resource)"
check "unknown resource: 400 invalid_target" "400 invalid_target" "$(code_of -H "$(basic basic-0 secret-basic-0)" -d grant_type=client_credentials -d resource=https://unknown.example.test/ "$tok") $(jget error <"$b/body")"
check "/requests never shows a client secret" "no" "$(a "$admin/requests" | grep -qE 'secret-basic-0|secret-post-0' && echo yes || echo no)"
check "/requests?n=2 gives the last two" "2" "$(a "$admin/requests?n=2" | jq '.requests | length')"
check "admin DELETE /clients (private_key_jwt)" "true" "$(a -X DELETE "$admin/clients?client_id=selftest-rsa" | jget ok)"

# --- Stalls -----------------------------------------------------------------------------------
check "admin POST /stall (next 1 request of basic-7, 700 ms)" "1" "$(a -X POST "$admin/stall?ms=700&count=1&client_id=basic-7" | jget remaining)"
t="$(c -o /dev/null -w '%{time_total}' -H "$(basic basic-7 secret-basic-7)" -d grant_type=client_credentials "$tok")"
check "stalled request waited >= 0.7 s" "yes" "$(node -p "$t >= 0.7 ? 'yes' : 'no ($t s)'")"
t="$(c -o /dev/null -w '%{time_total}' -H "$(basic basic-7 secret-basic-7)" -d grant_type=client_credentials "$tok")"
check "the next one is not stalled" "yes" "$(node -p "$t < 0.5 ? 'yes' : 'no ($t s)'")"
check "admin GET /stall counts" "0 1 1" "$(s="$(a "$admin/stall?client_id=basic-7")"; echo "$(jget remaining <<<"$s") $(jget stalled <<<"$s") $(jget waited <<<"$s")")"
a -X POST "$admin/stall?ms=600000&client_id=basic-8" >/dev/null
c -o "$b/held" -H "$(basic basic-8 secret-basic-8)" -d grant_type=client_credentials "$tok" & held=$!
waiting=""
for _ in $(seq 200); do waiting="$(a "$admin/stall?client_id=basic-8" | jget waiting)"; [[ $waiting == 1 ]] && break; sleep 0.05; done
check "a request is held until cleared" "1" "$waiting"
check "a client that gives up is counted as abandoned" "28" "$(c -o /dev/null --max-time 0.3 -H "$(basic basic-8 secret-basic-8)" -d grant_type=client_credentials "$tok" 2>/dev/null; echo $?)"
abandoned=""
for _ in $(seq 200); do abandoned="$(a "$admin/stall?client_id=basic-8" | jget abandoned)"; [[ $abandoned == 1 ]] && break; sleep 0.05; done
check "admin GET /stall: abandoned" "1" "$abandoned"
check "admin DELETE /stall releases the held request" "1" "$(a -X DELETE "$admin/stall?client_id=basic-8" | jget cleared.0.released_now)"
wait "$held"
check "the released request gets its token" "Bearer" "$(jget token_type <"$b/held")"
check "/requests: stalled and abandoned recorded" "true" "$(a "$admin/requests?client_id=basic-8" | jget requests.1.abandoned)"
check "admin POST /stall with bad values is 400" "400" "$(a -o /dev/null -w '%{http_code}' -X POST "$admin/stall?ms=-1")"
c -X POST "$admin/reset" >/dev/null
check "reset also clears /requests" "0" "$(a "$admin/requests" | jq '.requests | length')"

# --- Startup options: --cert-key rsa, --no-bridge (the second server) --------------------------
IFS= read -r -t 30 ready <&"${second[0]}"
iss2="$(jget issuer <<<"$ready")"; ca2="$(jget ca_file <<<"$ready")"
check "--cert-key rsa: RSA server certificate" "yes" "$(openssl s_client -connect "127.0.0.1:${iss2##*:}" -CAfile "$ca2" </dev/null 2>/dev/null | openssl x509 -noout -text | grep -q 'rsaEncryption' && echo yes)"
check "--cert-key rsa: tokens over RSA TLS" "Bearer" "$(curl -sS --max-time 20 --cacert "$ca2" -H "$(basic basic-0 secret-basic-0)" -d grant_type=client_credentials "$iss2/connect/token" | jget token_type)"
check "--no-bridge: bridge endpoints are 404" "404 false" "$(curl -sS --max-time 20 --cacert "$ca2" -o /dev/null -w '%{http_code}' -X POST "$iss2/identity/bridge-token?clientId=rapidata-cli") $(jget bridge <<<"$ready")"
eval "exec ${second[1]}>&-"  # EOF on its stdin stops it
wait "$second_PID"

# Short-lived tokens (issued at the start)
while (($(date +%s%N) < short_issued + 4000000000)); do sleep 0.1; done
check "short-0 token rejected after 4 s" "401" "$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $st" "$api")"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
