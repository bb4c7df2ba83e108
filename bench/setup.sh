#!/usr/bin/env bash
# Installs what the benchmarks need beyond scripts/setup.sh, idempotently: libcurl's headers (the
# libcurl column of the fetch-cost benchmark) and a Python venv under target/ with the pinned
# comparison stack (authlib + httpx, as in Rapidata's Python SDK) and matplotlib for the plot.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

bash "$root/scripts/apt-ensure.sh" bench libcurl4-openssl-dev

venv="$root/target/bench-venv"
reqs="$root/bench/py/requirements.txt"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$reqs" "$venv/requirements.installed"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$reqs"
  cp "$reqs" "$venv/requirements.installed"
fi
