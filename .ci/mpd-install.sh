#!/bin/sh
# MPD and mpc for tests/output/test_mpd.py, which fails (not skips) under CI=true without them.
# Debian/Ubuntu: mpd 0.23.12 and mpc 0.34 from Debian 12 are what the tests were run with.
# The test starts its own mpd on 127.0.0.1 and a free port, so a system mpd.service that the
# package may start (port 6600) does not get in the way.
set -eu
if command -v mpd >/dev/null 2>&1 && command -v mpc >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends mpd mpc
