#!/usr/bin/env bash
# The credentials file both ways with Rapidata's own Python SDK (installed into target/python-sdk
# by scripts/setup.d/60-python-sdk.sh): the SDK reads what `raptoken login` writes, raptoken
# reads what the SDK writes, including after the SDK's own browser login. Against the test
# server's login bridge. About 5 s.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash scripts/build.sh --bin raptoken
python=target/python-sdk/bin/python
[ -x "$python" ] || { echo "sdk-compat: $python is missing: run scripts/setup.sh"; exit 1; }
testing/with-oidc-server.sh "$python" tests/python/sdk_compat.py "$root/target/release/raptoken"
