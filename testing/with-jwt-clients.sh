#!/usr/bin/env bash
# Runs a command with private_key_jwt clients registered at the test OpenID server, for the C
# and binding tests. Run it under testing/with-oidc-server.sh (it needs RAPTOKEN_TEST_ADMIN):
#
#   testing/with-oidc-server.sh testing/with-jwt-clients.sh CMD [ARGS...]
#
# Makes fresh keys with openssl in a private temporary directory, registers their public halves
# with the admin API (POST /clients) and exports:
#   RAPTOKEN_TEST_JWT_RSA_KEY        RSA 2048 PKCS#8 PEM (mode 0600) of client jwt-rsa (JWK kid rsa-1)
#   RAPTOKEN_TEST_JWT_EC_KEY         EC P-256 PKCS#8 PEM (0600) of clients jwt-ec, jwt-params and
#                                    jwt-wrong (no kid)
#   RAPTOKEN_TEST_JWT_WRONG_KEY      an EC P-256 key no client has (jwt-wrong with it: invalid_client)
#   RAPTOKEN_TEST_JWT_LOOSE_KEY      the EC key again, mode 0644 (refused: CONFIG)
#   RAPTOKEN_TEST_JWT_MALFORMED_KEY  the EC key cut short, mode 0600 (refused: CONFIG)
# One client per test that reads GET /requests (jwt-params), so parallel tests don't mix logs.
# Runs CMD, removes the keys and exits with CMD's status.
set -euo pipefail

if [[ $# -eq 0 || -z "${RAPTOKEN_TEST_ADMIN:-}" ]]; then
  echo "usage: testing/with-oidc-server.sh $0 CMD [ARGS...]" >&2
  exit 2
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/raptoken-jwt-keys.XXXXXX")  # mode 0700
trap 'rm -rf -- "$dir"' EXIT
umask 077
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/rsa.pem"
openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ec.pem"
openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/wrong.pem"
cp "$dir/ec.pem" "$dir/loose.pem" && chmod 644 "$dir/loose.pem"
head -c 100 "$dir/ec.pem" >"$dir/malformed.pem"

register() {  # register CLIENT_ID KEY_FILE [KID]
  local pub body
  pub=$(openssl pkey -in "$2" -pubout)
  body=$(jq -n --arg id "$1" --arg pem "$pub" --arg kid "${3:-}" \
    '{client_id: $id, public_key_pem: $pem} + (if $kid == "" then {} else {kid: $kid} end)')
  curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$body" "$RAPTOKEN_TEST_ADMIN/clients" ||
    { echo "with-jwt-clients: registering $1 failed" >&2; exit 1; }
}
register jwt-rsa "$dir/rsa.pem" rsa-1
for id in jwt-ec jwt-params jwt-wrong; do register "$id" "$dir/ec.pem"; done

export RAPTOKEN_TEST_JWT_RSA_KEY="$dir/rsa.pem" RAPTOKEN_TEST_JWT_EC_KEY="$dir/ec.pem"
export RAPTOKEN_TEST_JWT_WRONG_KEY="$dir/wrong.pem" RAPTOKEN_TEST_JWT_LOOSE_KEY="$dir/loose.pem"
export RAPTOKEN_TEST_JWT_MALFORMED_KEY="$dir/malformed.pem"
status=0
"$@" || status=$?
exit "$status"
