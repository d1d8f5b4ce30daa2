"""Full-length tracks: what decoding costs per format, what the whole product path costs per
track with every process's CPU counted, bliss-rs beside it, peak memory, and the projection
for a 20,000-track library on 2 cores.

Part 1, in this process, one thread, per file in turn (formats interleaved as the library
lists them): our decoder with the product's window cap (the backend's windows per track, or
`window_cap` over the library's durations at the default quantile), CPU of this process plus
any child it waited for (the old path's ffmpeg); then our features on those windows; then
bliss-rs (`bliss-audio`, its own decoder, whole track) on the same file. Per format: CPU per
track, per kept audio minute, and the ratio to MP3's.

Part 2, the product as a user runs it: a real beets library in a temp dir, the tracks
imported, then a first `beet cluster -n 6` with `workers: 1` on a small and on a large set;
the per-track cost is the difference over the tracks between them (import and start-up
drop out). Both sets get the whole library's default window cap as `max_windows` (left to
itself each set would take its own, from its own durations, and the difference would mix
two caps). CPU is `beet` and every process under it (RUSAGE_CHILDREN: each waits for its
own); peak memory is the sum of their resident sets and of their PSS, sampled every 50 ms.
Then one first run of the large set with `workers: 2`: the wall-clock rate on 2 cores.
bliss-rs runs on the tracks the difference covers, in this process.

    python scripts/bench_full.py                                  # build/full-library
    python scripts/bench_full.py --library build/full-slice --small 8 --large 24
    python scripts/bench_full.py --code /path/to/other/checkout   # the same, other code

Quality against windows per track is scripts/quality.py's curve (three dev sets, the rule).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS",
             "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: before numpy (and its BLAS) is imported

import argparse
import csv
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import psutil

HERE = Path(__file__).resolve().parent
# ../shared/tools/make_full_library.sh build/full-library makes it (apt downloads, cached)
LIBRARY = HERE.parent / "build" / "full-library"
TRACKS_20K = 20_000


def cpu_now() -> float:
    """CPU seconds of this process and every child it has waited for."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def rows(library: Path) -> list[dict]:
    with open(library / "labels.csv", newline="") as f:
        return list(csv.DictReader(f))


def spread_formats(items: list[dict], n: int) -> list[dict]:
    """n tracks, round-robin over formats, so any n holds every format in its share."""
    by: dict[str, list[dict]] = defaultdict(list)
    for r in items:
        by[r["format"]].append(r)
    out: list[dict] = []
    while len(out) < n and any(by.values()):
        for fmt in sorted(by):
            if by[fmt] and len(out) < n:
                out.append(by[fmt].pop(0))
    return out


def part1(library: Path, items: list[dict], bliss: bool) -> dict:
    from beetsplug.cluster.analysis.audio import decode_windows, window_cap
    from beetsplug.cluster.config import DEFAULTS
    from beetsplug.cluster.embedders.handcrafted import HandcraftedEmbedder

    emb = HandcraftedEmbedder()
    # the product's cap (analysis/jobs.py); an older checkout (--code) has no windows_per_track
    cap = getattr(emb, "windows_per_track", None) or window_cap(
        [float(r["duration_s"]) for r in items], emb.window_seconds,
        float(DEFAULTS["window_quantile"]))
    emb.embed(np.zeros((1, round(emb.window_seconds * emb.sample_rate)), np.float32))  # warm
    song = None
    if bliss:
        from bliss_audio import Song as song
    per: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in items:
        path = library / "music" / r["file"]
        c0 = cpu_now()
        got = decode_windows(path, emb.sample_rate, emb.window_seconds, 0.5, cap)
        c1 = cpu_now()
        emb.embed(got.windows)
        c2 = cpu_now()
        p = per[r["format"]]
        p["tracks"] += 1
        p["decode"] += c1 - c0
        p["features"] += c2 - c1
        p["kept_min"] += len(got.windows) * emb.window_seconds / 60
        p["audio_min"] += got.duration / 60
        if song is not None:
            song(str(path))
            p["bliss"] += cpu_now() - c2
    return {"cap": cap, "per": per}


def print_part1(res: dict, bliss: bool) -> None:
    per = res["per"]
    mp3 = per["mp3"]["decode"] / per["mp3"]["kept_min"] if per.get("mp3") else float("nan")
    print(f"\nPart 1: one thread, in-process, cap {res['cap']} windows of 5 s "
          f"(the product's default for this library)")
    head = "format  tracks  decode/track  decode/kept min  x MP3  features/track"
    print(head + ("  bliss-rs/track  ours/bliss" if bliss else ""))
    total: dict[str, float] = defaultdict(float)
    for fmt in sorted(per):
        p = per[fmt]
        for k, v in p.items():
            total[k] += v
        n, per_min = p["tracks"], p["decode"] / p["kept_min"]
        line = (f"{fmt:6s}  {n:6.0f}  {1000 * p['decode'] / n:9.0f} ms  {1000 * per_min:12.0f} ms"
                f"  {per_min / mp3:5.2f}  {1000 * p['features'] / n:11.0f} ms")
        if bliss:
            ours = p["decode"] + p["features"]
            line += f"  {1000 * p['bliss'] / n:11.0f} ms  {ours / p['bliss']:10.2f}"
        print(line)
    n = total["tracks"]
    ours = total["decode"] + total["features"]
    print(f"all     {n:6.0f}  {1000 * total['decode'] / n:9.0f} ms  "
          f"{1000 * total['decode'] / total['kept_min']:12.0f} ms         "
          f"{1000 * total['features'] / n:11.0f} ms"
          + (f"  {1000 * total['bliss'] / n:11.0f} ms  {ours / total['bliss']:10.2f}"
             if bliss else ""))
    print(f"mean track {60 * total['audio_min'] / n:.0f} s; decode + features "
          f"{1000 * ours / n:.0f} ms CPU a track")


class TreeWatch:
    """CPU and peak memory of a command and everything under it. Memory two ways: the sum of
    the processes' resident sets (pages two processes share count twice: the libraries every
    worker maps) and the sum of their proportional sets (PSS: a shared page split among its
    sharers, so the sum is what the run takes from the machine)."""

    def __init__(self, cmd: list[str], env: dict, cwd: Path):
        self.cmd, self.env, self.cwd = cmd, env, cwd
        self.peak_rss = self.peak_pss = 0

    def run(self) -> tuple[float, float, subprocess.CompletedProcess]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        proc = subprocess.Popen(self.cmd, env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(proc.pid, stop), daemon=True)
        watcher.start()
        out, _ = proc.communicate()
        stop.set()
        watcher.join()
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if proc.returncode:
            raise SystemExit(f"{' '.join(self.cmd)} failed ({proc.returncode}):\n{out}")
        return cpu, wall, subprocess.CompletedProcess(self.cmd, proc.returncode, out)

    def _watch(self, pid: int, stop: threading.Event) -> None:
        try:
            top = psutil.Process(pid)
        except psutil.Error:
            return
        while not stop.is_set():
            rss = pss = 0
            try:
                procs = [top, *top.children(recursive=True)]
            except psutil.Error:
                procs = []
            for p in procs:
                try:
                    full = p.memory_full_info()
                except psutil.Error:
                    continue
                rss += full.rss
                pss += getattr(full, "pss", full.rss)  # PSS is Linux's; elsewhere RSS
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            stop.wait(0.05)


def first_run(library: Path, items: list[dict], code: Path, workers: int, tmp: Path,
              clusters: int, cap: int) -> tuple[float, float, str]:
    """A fresh beets library of `items`, imported, then a first `beet cluster -n N`:
    (CPU s of all processes, wall s, their peak memory as 'RSS sum / PSS sum MiB')."""
    import yaml

    root = Path(tempfile.mkdtemp(dir=tmp))
    music = root / "music"
    for r in items:
        target = music / r["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(library / "music" / r["file"], target)
    (root / "beetsdir").mkdir()
    config = {"directory": str(music), "library": str(root / "library.db"),
              "plugins": ["cluster"],
              "import": {"copy": False, "write": False, "log": str(root / "import.log")},
              "cluster": {"workers": workers, "max_windows": cap}}
    (root / "beetsdir" / "config.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "BEETSDIR": str(root / "beetsdir"),
           "PYTHONPATH": os.pathsep.join([str(code), str(code / "daemon")])}
    beet = [sys.executable, "-m", "beets"]
    # run where no checkout is: `python -m` puts the working directory first on sys.path,
    # before PYTHONPATH, and a checkout there would be the code measured
    subprocess.run([*beet, "import", "-A", "-s", "-q", str(music)], env=env, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL, cwd=root)
    watch = TreeWatch([*beet, "cluster", "-n", str(clusters)], env, root)
    cpu, wall, done = watch.run()
    said = [ln for ln in done.stdout.splitlines() if " analysed, " in ln]
    print(f"    ({len(items)} tracks, workers {workers}: {said[-1] if said else done.stdout})")
    shutil.rmtree(root)
    return cpu, wall, f"{watch.peak_rss // 2**20} / {watch.peak_pss // 2**20}"


def part2(library: Path, items: list[dict], small: int, large: int, code: Path,
          bliss: bool, cap: int) -> None:
    chosen = spread_formats(items, large)
    k = min(6, small - 1)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        c_s, w_s, m_s = first_run(library, chosen[:small], code, 1, tmp, k, cap)
        c_l, w_l, m_l = first_run(library, chosen, code, 1, tmp, k, cap)
        c_2, w_2, m_2 = first_run(library, chosen, code, 2, tmp, k, cap)
    n = large - small
    per_cpu, per_wall = (c_l - c_s) / n, (w_l - w_s) / n
    print(f"\nPart 2: a first `beet cluster -n {k}`, every process's CPU counted "
          f"({small} and {large} tracks, formats mixed, max_windows {cap}: the whole "
          f"library's default cap, so both sets keep the same windows a track)")
    print("  peak memory of all processes: the sum of resident sets / of proportional sets")
    print(f"  workers 1: {small} tracks {c_s:.1f} s CPU {w_s:.1f} s wall, peak {m_s} MiB; "
          f"{large} tracks {c_l:.1f} s CPU {w_l:.1f} s wall, peak {m_l} MiB")
    print(f"  per track (the difference / {n}): {1000 * per_cpu:.0f} ms CPU, "
          f"{1000 * per_wall:.0f} ms wall")
    print(f"  workers 2: {large} tracks {c_2:.1f} s CPU {w_2:.1f} s wall "
          f"({large / w_2:.1f} tracks/s), peak {m_2} MiB")
    if bliss:
        from bliss_audio import Song

        Song(str(library / "music" / chosen[0]["file"]))  # warm
        c0 = cpu_now()
        for r in chosen[small:]:
            Song(str(library / "music" / r["file"]))
        b = (cpu_now() - c0) / n
        print(f"  bliss-rs on the same {n} tracks, in-process: {1000 * b:.0f} ms CPU a track; "
              f"ours / bliss-rs {per_cpu / b:.2f} ({b / per_cpu:.1f}x less)")
    minutes_cpu = TRACKS_20K * per_cpu / 2 / 60
    print(f"  20,000 tracks on 2 cores: {minutes_cpu:.0f} min from the CPU per track "
          f"(both cores busy); {TRACKS_20K / (large / w_2) / 60:.0f} min at the measured "
          f"workers-2 rate on this (shared) machine")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--library", type=Path, default=LIBRARY)
    ap.add_argument("--code", type=Path, default=HERE.parent, help="checkout to measure")
    ap.add_argument("--small", type=int, default=15)
    ap.add_argument("--large", type=int, default=45)
    ap.add_argument("--no-bliss", action="store_true")
    ap.add_argument("--skip-product", action="store_true", help="part 1 only")
    args = ap.parse_args()
    sys.path[:0] = [str(args.code.resolve()), str(HERE)]
    bliss = not args.no_bliss
    if bliss:
        try:
            import bliss_audio  # noqa: F401
        except ImportError:
            print("bliss-audio not installed (pip install bliss-audio): left out")
            bliss = False
    items = rows(args.library)
    print(f"library {args.library}: {len(items)} tracks; code {args.code.resolve()}")
    res = part1(args.library, items, bliss)
    print_part1(res, bliss)
    if not args.skip_product:
        part2(args.library, items, args.small, args.large, args.code.resolve(), bliss,
              res["cap"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\nthis process (part 1 and bliss-rs): peak {peak} MiB")


if __name__ == "__main__":
    main()
