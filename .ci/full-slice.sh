#!/usr/bin/env bash
# A small slice of a full-length library for the tests (tests/conftest.py::full_slice):
# 32 full tracks from two Debian game-music packages (about 70 MB of apt downloads, cached in
# build/full-cache), built by the shared builder beside the checkout. Needs ffmpeg (apt).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
    SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends ffmpeg
fi
OUT=${1:-build/full-slice}
PACKAGES='drascula-music pushover-data' CACHE_DIR=${CACHE_DIR:-build/full-cache} \
    bash ../shared/tools/make_full_library.sh "$OUT" >/dev/null
echo "full-length slice: $(($(wc -l <"$OUT/labels.csv") - 1)) tracks in $OUT/music"
