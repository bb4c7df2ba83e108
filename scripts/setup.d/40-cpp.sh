#!/usr/bin/env bash
# C/C++ examples: libcurl's headers (the rest of the C++ toolchain, GoogleTest and clang come
# from scripts/setup.sh). Idempotent: apt is only touched when something is missing.
set -euo pipefail
pkgs=(libcurl4-openssl-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup (cpp): installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
