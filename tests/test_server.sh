#!/usr/bin/env bash
# tests/test_server.sh ROSTERD: rosterd end to end with the real tools
# (tests/test_server.py under Debian's pytest).  Installs the Debian
# packages it needs if they are missing (as root, or through sudo).
set -euo pipefail
rosterd=$1
here=$(cd "$(dirname "$0")" && pwd)
need="redis-tools redis-server nutcracker python3-redis python3-pytest"
missing=""
for p in $need; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "test_server.sh: installing$missing" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
# Debian's own redis-server service is not ours: the tests start theirs on
# free ports.
cd "$here/.."
ROSTERD=$rosterd exec /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    "$here/test_server.py" "${@:2}"
