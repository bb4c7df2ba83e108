#!/usr/bin/env bash
# Installs the test OIDC server's npm dependencies if node_modules is missing or older than
# package-lock.json. Safe to run repeatedly and from any directory. All output goes to stderr.
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
stamp="$here/node_modules/.package-lock.json" # written by npm on every install

if [[ -d "$here/node_modules/oidc-provider" && -f "$stamp" && ! "$here/package-lock.json" -nt "$stamp" ]]; then
  exit 0
fi

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "oidc-server: '$tool' not found; install Node.js 20 or newer (with npm)" >&2
    exit 1
  fi
done

echo "oidc-server: installing npm dependencies in $here" >&2
# Serialise concurrent installs (several test runners may start at once).
exec 9>"$here/.install.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -d "$here/node_modules/oidc-provider" && -f "$stamp" && ! "$here/package-lock.json" -nt "$stamp" ]]; then
  exit 0
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
touch "$stamp"
