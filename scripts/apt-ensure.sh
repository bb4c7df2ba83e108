#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet; does nothing
# (and never runs the slow `apt-get update`) when all are present. Takes apt's recommends:
# Mono's class libraries and clang's runtimes arrive that way.
# Usage: scripts/apt-ensure.sh LABEL PKG...
set -euo pipefail
label=$1; shift
missing=()
for p in "$@"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup ($label): installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
