"""The daemon as a process: `python -m clusterd` with the beets config, signals, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import copy_clips, pick_clips

REPO = Path(__file__).resolve().parents[2]
FAKE_CLUSTERD = REPO / "tests" / "helpers" / "run_fake_clusterd.py"  # with helpers/fake_core.py


def records(path: Path) -> list[tuple[str, list]]:
    if not path.exists():
        return []
    return [tuple(json.loads(line)[:2]) for line in path.read_text().splitlines()]


def wait_records(path: Path, predicate, timeout: float = 10.0) -> list[tuple[str, list]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = records(path)
        if predicate(got):
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out; records so far: {records(path)}")


@pytest.fixture
def daemon(tmp_path: Path):
    music = tmp_path / "music"
    music.mkdir()
    beetsdir = tmp_path / "beets"
    beetsdir.mkdir()
    (beetsdir / "config.yaml").write_text(
        f"directory: {music}\nlibrary: {tmp_path / 'library.db'}\n"
        "cluster:\n  quiet_seconds: 0.25\n  max_wait_seconds: 3\n"
    )
    record = tmp_path / "calls.jsonl"
    procs: list[subprocess.Popen] = []

    def start(**env_extra: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "BEETSDIR": str(beetsdir),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")]),
            "CLUSTERD_RECORD": str(record),
            **env_extra,
        }
        cmd = [sys.executable, str(FAKE_CLUSTERD)]
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        wait_records(record, lambda r: any(m == "catch_up" for m, _ in r))
        return proc

    yield start, music, record, beetsdir
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_during_a_batch_finishes_the_file_flushes_and_exits_0(daemon):
    start, music, record, _ = daemon
    proc = start(CLUSTERD_DELAY="0.5")
    assert records(record)[0] == ("catch_up", [str(music)])
    copy_clips(pick_clips(per_genre=2), music)  # 8 files, 0.5 s each
    wait_records(record, lambda r: any(m == "added" for m, _ in r))
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=10)
    took = time.monotonic() - t0
    print(f"SIGTERM -> exit {rc} in {took:.2f} s")
    assert rc == 0
    assert took < 3.0
    got = records(record)
    assert [m for m, _ in got][-2:] == ["flush", "close"]
    assert 1 <= sum(m == "added" for m, _ in got) < 8  # stopped mid-batch, not after it


def test_sighup_reloads_the_config_and_keeps_watching(daemon):
    start, music, record, beetsdir = daemon
    proc = start()
    cfg = beetsdir / "config.yaml"
    cfg.write_text(cfg.read_text() + "  recluster_after: 1\n")
    proc.send_signal(signal.SIGHUP)
    wait_records(record, lambda r: any(m == "close" for m, _ in r))  # the old handler
    copy_clips(pick_clips(per_genre=1)[:1], music)
    got = wait_records(record, lambda r: any(m == "recluster" for m, _ in r))  # the new value
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert "reloading configuration" in proc.stderr.read()
    assert [m for m, _ in got].count("close") == 1


def test_a_bad_config_is_one_clear_line_and_exit_2(tmp_path: Path):
    beetsdir = tmp_path / "beets"
    beetsdir.mkdir()
    (beetsdir / "config.yaml").write_text(
        f"directory: {tmp_path}\ncluster:\n  quiet_seconds: 5\n  max_wait_seconds: 1\n"
    )
    env = {
        **os.environ,
        "BEETSDIR": str(beetsdir),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")]),
    }
    cmd = [sys.executable, "-m", "clusterd"]  # the installed daemon: the real core
    done = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "max_wait_seconds" in done.stderr


def test_the_installed_daemon_runs_only_the_real_core(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")])}
    cmd = [sys.executable, "-m", "clusterd", "--handler", "fake_core:build"]
    done = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "unrecognized arguments: --handler" in done.stderr
    assert not list((REPO / "daemon" / "clusterd").glob("testing.py"))  # no fake ships
