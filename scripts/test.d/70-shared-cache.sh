#!/usr/bin/env bash
# Shared token cache across processes: 20 processes (the CLI and a C program) started at once send
# one token request; a killed lock holder; a full disk; a read-only directory; file modes; the
# token file written by `raptoken maintain` and in the Python SDK's format. Against the real
# OIDC provider. (Single-process cases are Rust tests: tests/shared_cache.rs.)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash scripts/build.sh --bin raptoken
out=target/shared-cache-tests
mkdir -p "$out"
cc -std=c11 -Wall -Wextra -Werror -O1 -Iinclude tests/c/shared_token.c \
   -Ltarget/release -Wl,-rpath,"$root/target/release" -lraptoken -o "$out/shared_token"
# A self-contained copy, for the test that runs it as another user.
cc -std=c11 -Wall -Wextra -Werror -O1 -Iinclude tests/c/shared_token.c target/release/libraptoken.a \
   -lpthread -ldl -lm -o "$out/shared_token_static"
testing/with-oidc-server.sh bash tests/shared_cache_processes.sh \
  "$out/shared_token" "$out/shared_token_static" "$root/target/release/raptoken"
