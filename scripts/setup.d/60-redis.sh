#!/usr/bin/env bash
# redis-server and redis-cli (Debian's redis-server and redis-tools) for the fleet cache tests.
# The tests start their own servers (a free port, a temporary directory, a password) and stop
# them; none runs as a service.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dpkg -s redis-server >/dev/null 2>&1 && dpkg -s redis-tools >/dev/null 2>&1 && exit 0
# On a machine without systemd the package's post-install script would start a system-wide
# server on port 6379 and leave it running: tell it not to (policy-rc.d exit 101 = "not now").
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
bash "$root/scripts/apt-ensure.sh" redis redis-server redis-tools
