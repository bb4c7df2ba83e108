#!/usr/bin/env bash
# C#: Mono's System.Net.Http (HttpClient, DelegatingHandler) on top of what setup.sh installs
# (mono-mcs, mono-runtime, nunit-console, libnunit-cil-dev). Idempotent: apt only if missing.
set -euo pipefail
pkgs=(mono-mcs mono-runtime nunit-console libnunit-cil-dev libmono-system-net-http4.0-cil)
bash "$(dirname "$0")/../apt-ensure.sh" csharp "${pkgs[@]}"
