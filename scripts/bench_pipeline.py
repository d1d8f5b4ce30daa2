"""Whole-run benchmark: all emotify-dev clips through `Library.analyse` with all cores.

Prints wall-clock, tracks/s, and the peak resident memory of the run (main process and all
worker processes together, sampled every 50 ms), then the same for half the clips, to show
that memory does not grow with library size.

    python scripts/bench_pipeline.py [--backend handcrafted] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from emotify import labelled_clips
from rss import PeakRSS

from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track
from beetsplug.cluster.store import Store


def run(paths: list[str], backend: str, workers: int) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        core = Library(Settings(backend=backend, workers=workers), store)
        with PeakRSS() as rss:
            start = time.perf_counter()
            report = core.analyse([Track(p, duration=30.0) for p in paths])
            wall = time.perf_counter() - start
        store.close()
    assert not report.failed, report.failed
    return wall, rss.peak, report.analysed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="handcrafted")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    args = ap.parse_args()
    paths = list(labelled_clips())
    print(f"backend {args.backend}, {args.workers} workers, {os.cpu_count()} cores")
    for subset in (paths[::2], paths):
        wall, peak, n = run(subset, args.backend, args.workers)
        print(f"{n:4d} clips: {wall:6.1f} s wall, {n / wall:5.1f} tracks/s, "
              f"{wall / n * 1000:5.0f} ms/track, peak RSS (all processes) {peak / 2**20:6.0f} MiB")


if __name__ == "__main__":
    main()
