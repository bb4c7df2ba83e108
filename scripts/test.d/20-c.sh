#!/usr/bin/env bash
# C: the ABI test compiled with -Wall -Wextra -Werror against the committed header, run under
# valgrind (memory errors and leaks fail the run) against the real OIDC provider.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash scripts/build.sh
out=target/c-tests
mkdir -p "$out"
valgrind_run=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
              --show-leak-kinds=definite,indirect --suppressions=tests/c/valgrind.supp)
cc -std=c11 -Wall -Wextra -Werror -Wpedantic -g -O1 -Iinclude tests/c/test_abi.c \
   -Ltarget/release -Wl,-rpath,"$root/target/release" -lraptoken -lpthread -o "$out/test_abi"
testing/with-oidc-server.sh testing/with-jwt-clients.sh "${valgrind_run[@]}" "$out/test_abi"

# The workstation login (rapidata_login) against the test server's login bridge, then against a
# server without it.
cc -std=c11 -Wall -Wextra -Werror -Wpedantic -g -O1 -Iinclude tests/c/test_login.c \
   -Ltarget/release -Wl,-rpath,"$root/target/release" -lraptoken -lpthread -o "$out/test_login"
testing/with-oidc-server.sh "${valgrind_run[@]}" "$out/test_login"
RAPTOKEN_OIDC_SERVER_ARGS=--no-bridge testing/with-oidc-server.sh "${valgrind_run[@]}" "$out/test_login" no-bridge

# The README's C example must compile as shown (-Werror) and run against the local server.
awk '/^## Example \(C\)$/{f=1;next} f&&/^```c$/{p=1;next} p&&/^```$/{exit} p' README.md > "$out/readme_example.c"
cc -std=c11 -Wall -Wextra -Werror -Iinclude "$out/readme_example.c" \
   -Ltarget/release -Wl,-rpath,"$root/target/release" -lraptoken -o "$out/readme_example"
testing/with-oidc-server.sh bash -c 'RAPIDATA_ISSUER=$RAPTOKEN_TEST_ISSUER RAPIDATA_CA_FILE=$RAPTOKEN_TEST_CA_FILE \
  RAPIDATA_CLIENT_ID=basic-50 RAPIDATA_CLIENT_SECRET=secret-basic-50 "$0"' "$out/readme_example" | grep -q "^Authorization: Bearer "
echo "README C example: ok"
