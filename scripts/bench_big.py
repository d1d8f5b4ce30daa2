"""Big libraries on one machine: `beet cluster -n 12` the first time (the cluster field written
to every item) and with nothing changed, the daemon's start-up catch-up and one new file
placed, each with its peak resident memory, against `beet ls` of the whole library (beets'
own start-up and a full query: the reference) on the same library, for each size.

The library is synthetic (scripts/synthetic_library.py): N tiny files on disk, a beets database
of N items, a store holding a hand-crafted-sized vector for each file that matches its size and
mtime, so nothing is decoded but the one real clip the daemon is given.

    python scripts/bench_big.py [--tracks 10000 50000 100000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "daemon")]

from synthetic_library import CLIP, build

CONFIG = {"watch_dirs": [], "quiet_seconds": 0.5, "max_wait_seconds": 5, "workers": 1}


def _env(root: Path) -> dict:
    return {**os.environ, "BEETSDIR": str(root),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")])}


def timed(root: Path, *args: str) -> str:
    """Wall seconds, CPU seconds and peak RSS of one fresh process, from the kernel's account
    (the CPU time says what a busy machine's wall clock can't)."""
    wall, cpu, rss = measured(root, *args)
    return f"{wall:.1f} s ({cpu:.1f} s CPU), {rss:.0f} MB"


def measured(root: Path, *args: str) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak resident MB) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], env=_env(root), stdout=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed with status {proc.returncode}")
    wall, cpu = time.perf_counter() - start, usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024


def daemon(root: Path) -> tuple[float, float, float]:
    """(catch-up seconds, resident MB after it, seconds to place one new real clip)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "clusterd"], env=_env(root),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(proc, "catch-up scan done")
        caught_up = time.perf_counter() - start
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
        new = root / "music" / "new.mp3"
        start = time.perf_counter()
        shutil.copyfile(CLIP, new)
        _wait_for(proc, re.escape(str(new)) + " -> ")
        return caught_up, rss, time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(30)


def placing_alone(root: Path) -> float:
    """Seconds the daemon's handler takes to place one more new clip on this library once its
    waits are over (the quiet period, and the file older than the wait for a beets import):
    the placing itself, its analysis included, in a warm core."""
    from beets import library
    from clusterd.handler import CoreHandler

    from beetsplug.cluster.config import Settings

    music = root / "music"
    new = music / "new2.mp3"
    shutil.copyfile(CLIP.with_name("rock_003.mp3"), new)
    time.sleep(1.2)
    lib = library.Library(str(root / "library.db"), str(music))
    handler = CoreHandler(lib, Settings(clusters=12, workers=CONFIG["workers"],
                                        store=root / "cluster.db",
                                        playlist_dir=root / "playlists", library_root=music))
    try:
        handler._warm_up()
        start = time.perf_counter()
        assert handler.added([new]) == 1
        return time.perf_counter() - start
    finally:
        handler.close()
        lib._close()


def analysis_alone(tmp: Path) -> float:
    """Seconds to analyse the new clip in a warm core with the daemon's settings (one worker),
    a fresh store each time; the second of two runs, as the daemon's core is warm."""
    from beetsplug.cluster.config import Settings
    from beetsplug.cluster.library import Library
    from beetsplug.cluster.records import Track

    took = 0.0
    for run in range(2):
        clip = tmp / f"alone{run}" / "new.mp3"
        clip.parent.mkdir()
        shutil.copyfile(CLIP, clip)
        core = Library(Settings(workers=CONFIG["workers"], store=clip.parent / "s.db",
                                playlist_dir=clip.parent))
        start = time.perf_counter()
        core.analyse([Track(str(clip))])
        took = time.perf_counter() - start
        core.close()
    return took


def _wait_for(proc: subprocess.Popen, pattern: str) -> None:
    for line in proc.stderr:
        if re.search(pattern, line):
            return
        if " ERROR " in line or "Traceback" in line:
            raise SystemExit(f"clusterd: {line.strip()}")
    raise SystemExit(f"clusterd ended before: {pattern}")


def _no_file_writes(root: Path) -> None:
    """The tiny files are not audio: the cluster field goes to the beets database only (the
    file tags are one mediafile write per changed track, the same with or without this tool)."""
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["import"] = {"write": False}
    (root / "config.yaml").write_text(yaml.safe_dump(config))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    args = ap.parse_args()
    print("| tracks | `beet ls` | first `beet cluster -n 12` | nothing changed | "
          "daemon catch-up | daemon RSS | a new file: copied -> listed | placing it | "
          "its analysis |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.tracks:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            music = root / "music"
            build(root, n, files=True, config={**CONFIG, "watch_dirs": [str(music)]})
            _no_file_writes(root)
            ls_cpu = measured(root, "-m", "beets", "ls")
            first = timed(root, "-m", "beets", "cluster", "-n", "12")
            again_cpu = measured(root, "-m", "beets", "cluster", "-n", "12")
            ls, again = (f"{w:.1f} s ({c:.1f} s CPU), {m:.0f} MB" for w, c, m in (ls_cpu,
                                                                                    again_cpu))
            again += f"; {again_cpu[1] / ls_cpu[1]:.2f}x `beet ls`'s CPU"
            caught_up, rss, placed = daemon(root)
            placing = placing_alone(root)
            alone = analysis_alone(root)
        print(f"| {n:,} | {ls} | {first} | {again} | {caught_up:.1f} s | {rss:.0f} MB "
              f"| {placed:.2f} s | {placing:.2f} s | {alone:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
