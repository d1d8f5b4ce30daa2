"""The daemon's test helpers, shared by test_daemon_core and test_daemon_faults: a library
built once per module and copied per test, a daemon process, and the checks on what it left.
The fixtures (template, library, daemons) are imported by the modules that use them."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from conftest import REPO, BeetsEnv, pick_clips

from beetsplug.cluster.output.playlists import MARKER, read_playlist

OPTIONS = {"quiet_seconds": 0.3, "max_wait_seconds": 5, "workers": 2}


@pytest.fixture(scope="module")
def template(tmp_path_factory, emotify) -> BeetsEnv:
    env = BeetsEnv(tmp_path_factory.mktemp("template"), **OPTIONS)
    env.import_clips(pick_clips(per_genre=5))
    assert "20 analysed" in env.beet("cluster", "-n", "4").stdout
    return env


def library_copy(template: BeetsEnv, root: Path, **options) -> BeetsEnv:
    shutil.copytree(template.root, root)  # copy2: sizes and mtimes kept, so vectors stay valid
    env = BeetsEnv(root, **{**OPTIONS, **options})  # rewrites config.yaml for the new place
    with sqlite3.connect(root / "cluster.db") as db:
        old, new = os.fsencode(template.root), os.fsencode(root)  # the store's paths are bytes
        for table in ("tracks", "assignments"):
            db.execute(f"UPDATE {table} SET path = CAST(? || substr(path, ?) AS BLOB)",
                       [new, len(old) + 1])
    return env


@pytest.fixture
def library(template, tmp_path) -> BeetsEnv:
    return library_copy(template, tmp_path / "lib")


class Daemon:
    """`python -m clusterd` (or `beet clusterd`) on a BeetsEnv, its log in a file."""

    def __init__(self, env: BeetsEnv, *command: str, prefix: Sequence[str] = (),
                 extra_env: Mapping[str, str] | None = None) -> None:
        """`prefix`: run under another command (setpriv); `extra_env`: more variables."""
        self.log = env.root / "daemon.log"
        run_env = {**os.environ, "BEETSDIR": str(env.config_dir), "OPENBLAS_NUM_THREADS": "1",
                   "OMP_NUM_THREADS": "1",
                   "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")]),
                   **(extra_env or {})}
        cmd = [*prefix, sys.executable, "-m", *(command or ("clusterd",))]
        with open(self.log, "a") as log:
            start = log.tell()  # a restart appends: its own catch-up is the one to wait for
            self.proc = subprocess.Popen(cmd, env=run_env, stdout=log, stderr=log)
        wait_until(lambda: b"catch-up scan done" in self.log.read_bytes()[start:], 60,
                   "the catch-up scan", self)

    def text(self) -> str:
        return self.log.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)


@pytest.fixture
def daemons() -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(env: BeetsEnv, *command: str, **how) -> Daemon:
        started.append(Daemon(env, *command, **how))
        return started[-1]

    yield start
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               daemon: Daemon | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if daemon is not None and daemon.proc.poll() is not None:
            break
        time.sleep(0.02)
    log = daemon.text()[-3000:] if daemon else ""
    raise AssertionError(f"timed out waiting for {what}\n{log}")


def members(env: BeetsEnv) -> dict[str, list[str]]:
    """Playlist stem -> absolute paths of its entries."""
    return {f.stem: [os.path.normpath(f.parent / line) for line in read_playlist(f)]
            for f in sorted(env.playlists.glob("*.m3u8"))}


def listed(env: BeetsEnv) -> list[str]:
    return [p for paths in members(env).values() for p in paths]


def rows(env: BeetsEnv) -> dict[str, tuple[float, str | None]]:
    """path -> (analysed_at, error) in the store."""
    with sqlite3.connect(env.root / "cluster.db") as db:
        return {os.fsdecode(p): (a, e)
                for p, a, e in db.execute("SELECT path, analysed_at, error FROM tracks")}


def assigned(env: BeetsEnv, path: Path) -> tuple[int, str]:
    """(cluster number, playlist name) of a file in the store's last run."""
    with sqlite3.connect(env.root / "cluster.db") as db:
        return db.execute("SELECT cluster, playlist FROM assignments WHERE path = ? AND run_id = "
                          "(SELECT max(id) FROM runs)", [os.fsencode(path)]).fetchone()


def first(env: BeetsEnv, folder: str) -> Path:
    return env.music / folder / min(os.listdir(env.music / folder))


def playlist_of(env: BeetsEnv, path: Path) -> str:
    (name,) = [n for n, paths in members(env).items() if str(path) in paths]
    return name


def check_whole(env: BeetsEnv) -> None:
    """The store passes SQLite's own check; every playlist is ours, whole, and points at files."""
    with sqlite3.connect(env.root / "cluster.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for f in env.playlists.glob("*.m3u8"):
        text = f.read_text(encoding="utf-8")
        assert text.startswith("#EXTM3U\n") and MARKER in text and text.endswith("\n")
        for line in read_playlist(f):
            assert (f.parent / line).is_file(), line
    assert not list(env.playlists.glob(".*.tmp")), "a temp file left behind"
