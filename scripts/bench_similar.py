"""`beet similar` on a library of N tracks (default 100,000), against `beet ls` of the same seed on
the same library (beets' own start-up and query: the reference), each a fresh `beet` process.

The library is synthetic (scripts/synthetic_library.py): a beets database of N items, one real
clip as the seed, a store holding a hand-crafted-sized vector for each; the other files need
not exist (only seeds are read). The seed's row matches its file, so nothing is decoded.

    python scripts/bench_similar.py [--tracks 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from synthetic_library import build


def beet(root: Path, *args: str) -> float:
    env = {**os.environ, "BEETSDIR": str(root), "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "beets", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5, help="runs of each; medians are printed")
    args = ap.parse_args()
    n = args.tracks
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        seed_id = build(root, n)
        print(f"built a library of {n} tracks in {time.perf_counter() - t:.0f} s", flush=True)
        beet(root, "ls", f"id:{seed_id}")  # warm the page cache for both
        ls, similar = [], []
        for _ in range(args.repeat):  # alternating, so a busy moment costs both alike
            ls.append(beet(root, "ls", f"id:{seed_id}"))
            similar.append(beet(root, "similar", "-n", "25", "--pretend", f"id:{seed_id}"))
    ls_s, similar_s = statistics.median(ls), statistics.median(similar)
    print(f"{n} tracks, median of {args.repeat}: beet similar -n 25 {similar_s:.2f} s, "
          f"beet ls of the seed {ls_s:.2f} s: {similar_s - ls_s:.2f} s beyond beets' start-up "
          "and query")


if __name__ == "__main__":
    main()
