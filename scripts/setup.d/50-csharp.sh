#!/usr/bin/env bash
# C#: Mono's System.Net.Http (HttpClient, DelegatingHandler) on top of what setup.sh installs
# (mono-mcs, mono-runtime, nunit-console, libnunit-cil-dev). Idempotent: apt only if missing.
set -euo pipefail
pkgs=(mono-mcs mono-runtime nunit-console libnunit-cil-dev libmono-system-net-http4.0-cil)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup.d/50-csharp: installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
