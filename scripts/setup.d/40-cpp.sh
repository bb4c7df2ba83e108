#!/usr/bin/env bash
# C/C++ examples: libcurl's headers (the rest of the C++ toolchain, GoogleTest and clang come
# from scripts/setup.sh). Idempotent: apt is only touched when something is missing.
set -euo pipefail
pkgs=(libcurl4-openssl-dev)
bash "$(dirname "$0")/../apt-ensure.sh" cpp "${pkgs[@]}"
