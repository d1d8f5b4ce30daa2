"""What analysing on Dask costs per track against the local worker pool, in one run.

The same real clips (emotify-dev) go through `Library.analyse` into a fresh store each time:
with the local pool (`--workers` processes), and with `dask=` a local Dask cluster of as many
single-threaded worker processes (nannies, as `dask worker` runs them). Each run is timed whole,
as a user waits for it: the local pool's start-up included, the Dask cluster's not (it is
already running) but the client's connection is. Each way runs N/2 and N clips: the slope
(the time the other N/2 clips added) is the cost per track without either's fixed start-up;
its difference is what Dask costs per track. A warm-up of each way first (file cache, imports);
then `--rounds` rounds, each measuring both ways back to back; medians over the rounds (the
machine may be shared: the load average is printed).

    python scripts/bench_dask.py [--clips 200] [--workers 2] [--backend handcrafted]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from statistics import median

from emotify import labelled_clips

from beetsplug.cluster.config import DaskTarget, Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track


def timed(paths: list[str], settings: Settings) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        core = Library(settings.with_(store=Path(tmp) / "bench.db"))
        start = time.perf_counter()
        report = core.analyse([Track(p, duration=30.0) for p in paths])
        wall = time.perf_counter() - start
        core.close()
    assert report.analysed == len(paths) and not report.failed, report.failed
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--backend", default="handcrafted")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from distributed import LocalCluster

    paths = list(labelled_clips())[: args.clips]
    sizes = (len(paths) // 2, len(paths))
    local = Settings(backend=args.backend, workers=args.workers)
    print(f"{len(paths)} clips, backend {args.backend}, {args.workers} workers either way, "
          f"{os.cpu_count()} cores")
    slopes: dict[str, list[float]] = {"local pool": [], "dask": []}
    fixed: dict[str, list[float]] = {"local pool": [], "dask": []}
    whole: dict[str, list[float]] = {"local pool": [], "dask": []}
    small, big = sizes
    # threads_per_worker=1: as the local pool's single-threaded worker processes
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        ways = (("local pool", local),
                ("dask", local.with_(dask=DaskTarget(cluster.scheduler_address))))
        for _, settings in ways:
            timed(paths[:small], settings)
        for round_ in range(1, args.rounds + 1):
            for name, settings in ways:
                a, b = timed(paths[:small], settings), timed(paths, settings)
                slope = (b - a) / (big - small)
                slopes[name].append(slope * 1000)
                fixed[name].append(b - slope * big)
                whole[name].append(b / big * 1000)
                print(f"round {round_} {name:10s}: {small} clips {a:6.2f} s, {big} clips "
                      f"{b:6.2f} s: {slope * 1000:6.1f} ms/track marginal, "
                      f"{b - slope * big:5.2f} s fixed (load {os.getloadavg()[0]:.1f})")
    for name, _ in ways:
        print(f"{name:10s}: median {median(whole[name]):6.1f} ms/track over {big} clips, "
              f"{median(slopes[name]):6.1f} ms/track marginal, {median(fixed[name]):5.2f} s fixed")
    extra = median(slopes["dask"]) - median(slopes["local pool"])
    print(f"dask against the local pool, per track: {extra:+.1f} ms "
          f"({median(slopes['dask']) / median(slopes['local pool']):.2f}x)")


if __name__ == "__main__":
    main()
