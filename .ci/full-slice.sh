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
OUT=${1:-$PWD/build/full-slice}
# absolute: the builder changes folder before it writes into its cache
PACKAGES='drascula-music pushover-data' CACHE_DIR=${CACHE_DIR:-$PWD/build/full-cache} \
    bash ../shared/tools/make_full_library.sh "$OUT" >/dev/null
tracks=$(($(wc -l <"$OUT/labels.csv") - 1))
if [ "$tracks" -lt 30 ]; then
    echo "full-length slice: only $tracks tracks in $OUT (see $OUT/packages.txt)" >&2
    exit 1
fi
echo "full-length slice: $tracks tracks in $OUT/music"
