#!/usr/bin/env bash
# The fleet cache across real processes (tests/fleet_processes.sh): 16 processes x 8 threads
# started cold and together send one token request through a real redis-server; what redis-cli
# shows; raptoken check and maintain with a fleet cache; Redis paused under a fleet. The fault
# cases of one process at a time are Rust tests (tests/fleet.rs, suite 10-rust).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash scripts/build.sh --bin raptoken
out=target/fleet-tests
mkdir -p "$out"
cc -std=c11 -Wall -Wextra -Werror -O1 -pthread -Iinclude tests/c/fleet_token.c \
   -Ltarget/release -Wl,-rpath,"$root/target/release" -lraptoken -o "$out/fleet_token"
testing/with-oidc-server.sh testing/with-redis.sh bash tests/fleet_processes.sh "$out/fleet_token" "$root/target/release/raptoken"
