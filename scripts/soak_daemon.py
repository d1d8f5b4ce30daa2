#!/usr/bin/env python
"""Soak the watcher daemon: feed it N audio files in bursts, sample its memory over time.

Starts `python -m clusterd` on a temporary beets library (its own BEETSDIR and config), first
imported and clustered with `beet import` + `beet cluster` over `--initial` clips, then copies
real clips in under fresh names, burst by burst, and samples the daemon's resident memory with
psutil. After the last burst it waits until the daemon has been idle (no CPU time used) for a
while, sends SIGTERM, and reports the RSS curve, the growth after warm-up, the exit status and
how many files reached a playlist.

    python scripts/soak_daemon.py                       # 300 files, the real core
    python scripts/soak_daemon.py --fake --initial 0

By default the daemon runs the real core (every file analysed, placed, tagged, listed); with
`--fake` it is tests/helpers/run_fake_clusterd.py, whose core (tests/helpers/fake_core.py) only
records calls, so it measures the daemon's own machinery. `--extra-config` is appended to the
generated beets config (YAML under `cluster:` keys must be indented to continue that section).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
CLIPS = REPO.parent / "shared" / "data" / "emotify-dev"
FAKE_CLUSTERD = REPO / "tests" / "helpers" / "run_fake_clusterd.py"


def sample(
    proc: psutil.Process,
    out: list[tuple[float, float, int]],
    fed: list[int],
    stop: threading.Event,
    t0: float,
    every: float,
) -> None:
    while not stop.wait(every):
        try:
            rss = proc.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            return
        out.append((time.monotonic() - t0, rss, fed[0]))


def wait_idle(proc: psutil.Process, idle_for: float, timeout: float) -> float:
    """Until the process has used no CPU for `idle_for` seconds; returns seconds waited."""
    t0 = last_busy = time.monotonic()
    cpu = sum(proc.cpu_times()[:2])
    while time.monotonic() - last_busy < idle_for and time.monotonic() - t0 < timeout:
        time.sleep(0.25)
        now_cpu = sum(proc.cpu_times()[:2])
        if now_cpu - cpu > 0.02:  # more than housekeeping (the observer's own wakeups)
            last_busy = time.monotonic()
        cpu = now_cpu
    return time.monotonic() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--files", type=int, default=300)
    p.add_argument("--burst", type=int, default=30, help="files per burst")
    p.add_argument("--pause", type=float, default=3.0, help="seconds between bursts")
    p.add_argument("--quiet", type=float, default=0.5, help="cluster.quiet_seconds")
    p.add_argument("--fake", action="store_true", help="the recording core of the tests")
    p.add_argument("--initial", type=int, default=20,
                   help="clips imported and clustered (`beet cluster -n 4`) before the start")
    p.add_argument("--extra-config", type=Path, help="YAML appended to the generated config")
    p.add_argument("--clips", type=Path, default=CLIPS)
    p.add_argument("--warmup", type=float, default=0.25, help="fraction of files = warm-up")
    p.add_argument("--limit-mb", type=float, default=50.0, help="allowed growth after warm-up")
    p.add_argument("--json", type=Path, help="write the samples and the summary here")
    args = p.parse_args()

    clips = sorted(args.clips.rglob("*.mp3"))
    if not clips:
        p.error(f"no clips under {args.clips}")
    work = Path(tempfile.mkdtemp(prefix="soak-clusterd-"))
    music, beetsdir, record = work / "music", work / "beets", work / "calls.jsonl"
    music.mkdir()
    beetsdir.mkdir()
    config = (
        f"directory: {music}\nlibrary: {work / 'library.db'}\nplugins: [cluster]\n"
        "import: {copy: no, write: yes, duplicate_action: keep}\n"
        f"cluster:\n  quiet_seconds: {args.quiet}\n  max_wait_seconds: {max(30, args.quiet)}\n"
        "  workers: 1\n"
    )
    if args.extra_config:
        config += args.extra_config.read_text()
    (beetsdir / "config.yaml").write_text(config)
    env = {
        **os.environ,
        "BEETSDIR": str(beetsdir),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")]),
        "CLUSTERD_RECORD": str(record),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    if args.initial:
        first = music / "initial"
        first.mkdir()
        for clip in clips[:: max(1, len(clips) // args.initial)][: args.initial]:  # all genres
            shutil.copyfile(clip, first / clip.name)
        for beet in (["import", "-A", "-s", "-q", str(first)], ["cluster", "-n", "4"]):
            subprocess.run([sys.executable, "-m", "beets", *beet], env=env, check=True,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    cmd = [sys.executable, str(FAKE_CLUSTERD)] if args.fake else [sys.executable, "-m", "clusterd"]
    log = open(work / "daemon.log", "w")  # noqa: SIM115 - closed at the end
    daemon = subprocess.Popen(cmd, env=env, stderr=log, stdout=log)
    proc = psutil.Process(daemon.pid)
    samples: list[tuple[float, float, int]] = []
    fed = [0]
    stop = threading.Event()
    t0 = time.monotonic()
    sampler = threading.Thread(target=sample, args=(proc, samples, fed, stop, t0, 0.5))
    sampler.start()
    try:
        wait_idle(proc, idle_for=1.0, timeout=60)  # start-up and catch-up done
        warm_mark = None
        while fed[0] < args.files:
            for _ in range(min(args.burst, args.files - fed[0])):
                clip = clips[fed[0] % len(clips)]
                album = music / f"album{fed[0] // args.burst:03d}"
                album.mkdir(exist_ok=True)
                shutil.copyfile(clip, album / f"{fed[0]:04d}-{clip.name}")  # a new file each
                fed[0] += 1
            time.sleep(args.pause)
            if warm_mark is None and fed[0] >= args.warmup * args.files:
                wait_idle(proc, idle_for=1.5, timeout=600)
                warm_mark = len(samples)
        drained = wait_idle(proc, idle_for=3.0, timeout=1800)
        daemon.send_signal(signal.SIGTERM)
        rc = daemon.wait(timeout=60)
    finally:
        stop.set()
        sampler.join()
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        log.close()

    added = 0
    if record.exists():
        added = sum(
            len(json.loads(line)[1])
            for line in record.read_text().splitlines()
            if json.loads(line)[0] == "added"
        )
    listed = sum(1 for f in (music / "Playlists").glob("*.m3u8")
                 for line in f.read_text().splitlines() if line and not line.startswith("#"))
    warm = samples[(warm_mark or 1) - 1][1]
    end, peak = samples[-1][1], max(s[1] for s in samples[(warm_mark or 1) - 1 :])
    for t, rss, n in samples[:: max(1, len(samples) // 25)]:
        print(f"t={t:6.1f}s  fed={n:4d}  rss={rss:7.1f} MB")
    summary = {
        "files": args.files,
        "recorded_added": added,  # --fake only
        "playlist_lines": listed,  # real core: initial + fed, when every file was placed
        "exit_status": rc,
        "rss_after_warmup_mb": round(warm, 1),
        "rss_end_mb": round(end, 1),
        "rss_peak_after_warmup_mb": round(peak, 1),
        "growth_mb": round(end - warm, 1),
        "drain_s": round(drained, 1),
        "workdir": str(work),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "samples": samples}))
    ok = rc == 0 and end - warm < args.limit_mb
    print("PASS" if ok else "FAIL", f"(growth {end - warm:.1f} MB, limit {args.limit_mb} MB)")
    shutil.rmtree(work / "music", ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
