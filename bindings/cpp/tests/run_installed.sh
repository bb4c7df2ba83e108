#!/usr/bin/env bash
# Runs, under testing/with-oidc-server.sh, what 40-cpp.sh built against an installed prefix:
# the CMake consumer (installed copy), the pkg-config C consumer, the C and C++ examples, and
# the warm-path benchmark (prints numbers, asserts nothing about speed).
# Usage: run_installed.sh CONSUMER_BIN_DIR PKGCONFIG_C_BIN C_EXAMPLE CPP_EXAMPLE BENCH
set -euo pipefail
consumer_dir=$1 pkgconfig_c=$2 c_example=$3 cpp_example=$4 bench=$5

# expect NAME REGEX CMD...: runs CMD, which must succeed and print a line matching REGEX.
expect() {
  local name=$1 regex=$2 out
  shift 2
  if ! out=$("$@" 2>&1); then
    echo "FAIL $name: exit status $?"; echo "$out"; return 1
  fi
  if ! grep -Eq "$regex" <<<"$out"; then
    echo "FAIL $name: output does not match /$regex/"; echo "$out"; return 1
  fi
  echo "ok   $name: $(tr '\n' ' ' <<<"$out")"
}

# The library reads these (the credentials chain); the examples call RAPTOKEN_EXAMPLE_API.
run_as() {
  local id=$1
  shift
  env RAPIDATA_CLIENT_ID="$id" RAPIDATA_CLIENT_SECRET="secret-$id" RAPIDATA_ISSUER="$RAPTOKEN_TEST_ISSUER" \
    RAPIDATA_CA_FILE="$RAPTOKEN_TEST_CA_FILE" RAPTOKEN_EXAMPLE_API="$RAPTOKEN_TEST_API" "$@"
}

# expect_expiry NAME CMD...: CMD prints "expires: <ISO 8601 UTC>" about an hour ahead (the
# test server's lifetime; the library counts from the request, so it may be a little less).
expect_expiry() {
  local name=$1 out iso at now
  shift
  out=$("$@" 2>&1) || { echo "FAIL $name: exit status $?"; echo "$out"; return 1; }
  iso=$(grep -oE '^expires: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' <<<"$out" | cut -c10-) || true
  [ -n "$iso" ] || { echo "FAIL $name: no 'expires: YYYY-MM-DDTHH:MM:SSZ' line"; echo "$out"; return 1; }
  at=$(date -u -d "$iso" +%s) now=$(date -u +%s)
  if [ $((at - now)) -lt 3500 ] || [ $((at - now)) -gt 3601 ]; then
    echo "FAIL $name: expires $iso is $((at - now)) s from now, want about 3600"; return 1
  fi
  echo "ok   $name: expires: $iso ($((at - now)) s ahead)"
}

version='^raptoken [0-9]+\.[0-9]+\.[0-9]+'
expect "cmake consumer (C++)" 'token of [1-9][0-9]* characters' run_as basic-41 "$consumer_dir/consumer_cpp"
expect "cmake consumer (C)" "$version \(C\)" "$consumer_dir/consumer_c"
expect "pkg-config consumer (C)" "$version \(C\)" "$pkgconfig_c"
# Status 200 from the API, and only an 8-character prefix of the token on screen.
expect "C example" '^HTTP status: 200$' run_as basic-42 "$c_example"
expect "C example prints 8 token chars" '^token: [^ .]{8}\.\.\. \(' run_as basic-43 "$c_example"
expect "C++ example" '^HTTP status: 200$' run_as basic-44 "$cpp_example"
expect "C++ example prints 8 token chars" '^token: [^ .]{8}\.\.\. \(' run_as basic-45 "$cpp_example"
expect_expiry "C example prints the expiry" run_as basic-46 "$c_example"
expect_expiry "C++ example prints the expiry" run_as basic-47 "$cpp_example"

"$bench"
