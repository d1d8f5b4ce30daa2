"""Peak memory of a whole analysis of one long file alone in a fresh store: 60 min, 2 h, 3 h.

Each file is real music: emotify-dev clips decoded and tiled into a 44.1 kHz stereo FLAC (or
WAV, MP3) written block by block into a temp dir. Each analysis runs in a fresh process:
`Library.analyse` with the default hand-crafted backend and 2 workers, the track's duration
given as beets would give it, so the window cap follows this library of one long file. Printed:
wall-clock and the peak resident memory of that process and all its children together
(psutil, sampled every 50 ms).

    python scripts/bench_long_files.py                      # 60, 120, 180 minutes, FLAC
    python scripts/bench_long_files.py --minutes 30 --format wav
    python scripts/bench_long_files.py --copies 4           # 4 such files: the worker pool
    python scripts/bench_long_files.py --code /path/to/other/checkout   # the same, other code
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
EMOTIFY = HERE.parents[1] / "shared" / "data" / "emotify-dev"
FORMATS = {"flac": ("FLAC", "PCM_16"), "wav": ("WAV", "PCM_16"), "mp3": ("MP3", "MPEG_LAYER_III")}


def make_long_file(path: Path, minutes: float, clips: int = 8) -> Path:
    """`minutes` of tiled real clips; written in blocks, so making it costs no memory."""
    sources = sorted(EMOTIFY.glob("*/*.mp3"))[:: max(1, 200 // clips)][:clips]
    music = np.concatenate([sf.read(p, dtype="float32", always_2d=True)[0] for p in sources])
    sr = 44100
    left = int(minutes * 60 * sr)
    fmt, subtype = FORMATS[path.suffix.lstrip(".")]
    with sf.SoundFile(path, "w", sr, 2, subtype, format=fmt) as f:
        while left > 0:
            block = music[:left]
            f.write(block)
            left -= len(block)
    return path


def measure(paths: list[Path], minutes: float, code: Path | None, workers: int) -> dict:
    """In this (fresh) process: analyse `paths` into a fresh store, watching memory."""
    sys.path[:0] = [str(code or HERE.parent), str(HERE)]
    from rss import PeakRSS

    from beetsplug.cluster.config import Settings
    from beetsplug.cluster.library import Library
    from beetsplug.cluster.records import Track
    from beetsplug.cluster.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        core = Library(Settings(workers=workers), store)
        with PeakRSS() as rss:
            start = time.perf_counter()
            report = core.analyse([Track(str(p), duration=minutes * 60) for p in paths])
            wall = time.perf_counter() - start
        store.close()
    return {"peak": rss.peak, "wall": wall, "analysed": report.analysed,
            "failed": report.failed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[60, 120, 180])
    ap.add_argument("--format", choices=sorted(FORMATS), default="flac")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--copies", type=int, default=1, help="files of each length in the library")
    ap.add_argument("--code", type=Path, help="the checkout whose beetsplug to measure")
    ap.add_argument("--measure", type=Path, nargs="+", help=argparse.SUPPRESS)  # the child's
    args = ap.parse_args()
    if args.measure:
        result = measure(args.measure, args.minutes[0], args.code, args.workers)
        print(json.dumps(result))
        return
    print(f"{args.copies} long file(s) alone in a fresh store, {args.workers} workers, "
          f"{args.format}")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            path = make_long_file(Path(tmp) / f"long-{minutes:g}min.{args.format}", minutes)
            copies = [path]
            for i in range(1, args.copies):  # links: other paths, the same bytes on disk
                copies.append(path.with_name(f"{path.stem}-{i}{path.suffix}"))
                os.link(path, copies[-1])
            cmd = [sys.executable, __file__, "--measure", *map(str, copies),
                   "--minutes", str(minutes), "--workers", str(args.workers)]
            if args.code:
                cmd += ["--code", str(args.code)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            status = "analysed" if r["analysed"] and not r["failed"] else f"FAILED {r['failed']}"
            print(f"{minutes:5g} min: {r['wall']:6.1f} s wall, peak RSS (all processes) "
                  f"{r['peak'] / 2**20:6.0f} MiB, {status}")
            for p in copies:
                p.unlink()


if __name__ == "__main__":
    main()
