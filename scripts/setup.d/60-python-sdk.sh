#!/usr/bin/env bash
# Rapidata's Python SDK (the PyPI package `rapidata`, pinned) in a venv under target/, for the
# two-way credentials-file test (scripts/test.d/65-sdk-compat.sh): the SDK reads what
# `raptoken login` writes and raptoken reads what the SDK writes. Idempotent: nothing happens
# when the venv already holds that version. About 300 MB and 30-40 s on a fresh machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
version=3.27.1
venv="$root/target/python-sdk"
bash "$root/scripts/apt-ensure.sh" python-sdk python3-venv
installed() {
  "$venv/bin/python" - "$version" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(m.version("rapidata") != sys.argv[1])
PY
}
if [ -x "$venv/bin/python" ] && installed; then
  exit 0
fi
echo "setup (python-sdk): installing rapidata $version into $venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "rapidata==$version"
installed || { echo "setup (python-sdk): rapidata $version did not install" >&2; exit 1; }
