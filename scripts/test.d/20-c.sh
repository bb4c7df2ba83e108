#!/usr/bin/env bash
# C: the ABI test compiled with -Wall -Wextra -Werror against the committed header, run under
# valgrind (memory errors and leaks fail the run) against the real OIDC provider.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash scripts/build.sh
out=target/c-tests
mkdir -p "$out"
cc -std=c11 -Wall -Wextra -Werror -Wpedantic -g -O1 -Iinclude tests/c/test_abi.c \
   -Ltarget/release -Wl,-rpath,"$root/target/release" -lraptoken -lpthread -o "$out/test_abi"
testing/with-oidc-server.sh valgrind -q --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
  --suppressions=tests/c/valgrind.supp \
  "$out/test_abi"
