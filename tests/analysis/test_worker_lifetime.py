"""However `beet cluster` ends (SIGTERM, SIGHUP, kill -9, an exception), no analysis worker
outlives it, and a signal keeps what was analysed as Ctrl-C does."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest
import soundfile as sf
from conftest import REPO, BeetsEnv, pick_clips

from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track
from beetsplug.cluster.store import Store


def long_files(clips, folder, n: int, minutes: float):
    """Real music, `minutes` long each: a clip tiled (mono 22050 Hz keeps the files small)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        y, sr = sf.read(clips[i % len(clips)], dtype="float32")
        mono = y.mean(axis=1)[::2]
        path = folder / f"long{i}.wav"
        sf.write(path, np.tile(mono, int(minutes * 60 / (len(mono) / (sr // 2))) + 1), sr // 2,
                 subtype="PCM_16")
        out.append(path)
    return out


def analysed_rows(store) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT count(*) FROM tracks WHERE vector IS NOT NULL").fetchone()[0]
    except sqlite3.OperationalError:  # the store is being created
        return 0


def start_analysis(beets_env):
    """`beet cluster` on 8 clips, then 12 files of 25 minutes with every 1 s window kept
    (several seconds of work on two fast cores: the in-process decoder made 6 files with 5 s
    windows end before the signal). Returns the process, its store and its children (workers,
    resource tracker) once the workers run and the first tracks are saved."""
    clips = pick_clips(per_genre=2)
    beets_env.import_clips(clips)
    longs = long_files(clips, beets_env.music / "zz-long", 12, 25)
    beets_env.beet("import", "-A", "-s", "-q", *map(str, longs))
    env = {**os.environ, "BEETSDIR": str(beets_env.config_dir),
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")])}
    # by path: the clips first (saved early), then the long files (still running at the signal)
    proc = subprocess.Popen([sys.executable, "-m", "beets", "cluster", "-n", "2", "path+"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    store = beets_env.root / "cluster.db"
    deadline = time.monotonic() + 120
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and proc.poll() is None:
        workers = [p for p in psutil.Process(proc.pid).children(recursive=True)
                   if "spawn_main" in " ".join(p.cmdline())]
        if len(workers) == 2 and analysed_rows(store) >= 1:
            break
        time.sleep(0.1)
    assert proc.poll() is None and len(workers) == 2, proc.communicate()
    others = [p for p in psutil.Process(proc.pid).children(recursive=True) if p not in workers]
    return proc, store, workers, others


def gone_within(processes, seconds: float) -> list[psutil.Process]:
    """Those of `processes` still running after `seconds` (checked at least once)."""
    deadline = time.monotonic() + seconds
    while True:
        alive = [p for p in processes if _alive(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_signal_stops_beet_cluster_as_ctrl_c_does(tmp_path, emotify, signum):
    # every window of the long files: an analysis slow enough to stop midway
    proc, store, workers, others = start_analysis(BeetsEnv(tmp_path, max_windows=2000,
                                                            window_seconds=1))
    before = analysed_rows(store)
    os.kill(proc.pid, signum)  # the main process only, as systemd or `kill` does
    assert not gone_within(workers, 5.0)
    _, err = proc.communicate(timeout=30)  # the interpreter's own teardown takes 1-2 s
    assert not gone_within(others, 5.0)  # the resource tracker, once its pipe is closed
    assert proc.returncode == 1
    name = signal.Signals(signum).name
    assert f"cluster: stopped by {name}; what was analysed is kept" in err
    assert "Traceback" not in err
    after = analysed_rows(store)
    print(f"\n{name}: {before} analysed at the signal, {after} of 20 kept")
    assert before <= after < 20  # what finished is kept; the rest is left for the next run


@pytest.mark.slow
def test_kill_9_leaves_no_worker_behind(tmp_path, emotify):
    proc, _, workers, others = start_analysis(BeetsEnv(tmp_path, max_windows=1000))
    proc.kill()
    proc.wait()
    assert not gone_within(workers + others, 5.0)
    proc.communicate(timeout=10)  # a worker left behind would hold these pipes open


@pytest.mark.slow
def test_an_exception_in_the_main_process_ends_the_workers(tmp_path, emotify):
    """The front end fails on the first result while both workers are busy with long files:
    they are killed, not left to finish (nor to run on after the main process)."""
    clip = pick_clips(per_genre=1)[0]
    longs = long_files([clip], tmp_path / "long", 3, 25)  # 300 windows: ~12 s of work each
    workers: list[psutil.Process] = []
    failed_at: list[float] = []

    def tick(n: int):
        def boom(_: int) -> None:
            workers.extend(p for p in psutil.Process().children(recursive=True)
                           if "spawn_main" in " ".join(p.cmdline()))
            failed_at.append(time.monotonic())
            raise RuntimeError("the front end failed")
        return boom

    store = Store(tmp_path / "s.db")
    core = Library(Settings(workers=2, max_windows=1000, store=tmp_path / "s.db"), store)
    tracks = [Track(str(clip), duration=30.0)] + [Track(str(p)) for p in longs]
    with pytest.raises(RuntimeError, match="front end failed"):
        core.analyse(tracks, progress=tick)
    assert len(workers) == 2
    # not the files in hand finished first, nor workers left running
    assert not gone_within(workers, failed_at[0] + 5.0 - time.monotonic())
    assert list(store.rows("handcrafted")) == [str(clip)]
    store.close()
