#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted input (token responses, discovery documents,
# credentials files, client keys) with cargo-fuzz: FUZZ_SECONDS per target (default 60). Needs a nightly
# toolchain (`rustup toolchain install nightly`) and `cargo install cargo-fuzz`. The committed
# seeds in fuzz/corpus/<target>/ stay small; what the fuzzer grows goes to fuzz/corpus-work/
# (ignored). Crashes land in fuzz/artifacts/<target>/: add each as a seed once fixed, so
# `cargo test` replays it for good (tests/fuzz_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=${*:-token_response discovery_document credentials_file client_key}
status=0
for t in $targets; do
  echo "=== fuzz $t for ${secs}s"
  mkdir -p "fuzz/corpus-work/$t"
  cargo +nightly fuzz run "$t" "fuzz/corpus-work/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 >"fuzz/corpus-work/$t.log" 2>&1 || {
    status=1
    echo "fuzz $t: FINDING (see fuzz/artifacts/$t/ and fuzz/corpus-work/$t.log)"
    grep -m1 -A2 "panicked" "fuzz/corpus-work/$t.log" || true
  }
  tail -n 1 "fuzz/corpus-work/$t.log"
done
exit $status
