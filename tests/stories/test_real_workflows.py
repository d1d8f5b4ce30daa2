"""The sequence a user goes through, on full-length tracks, a real beets library, the real `beet`
command and the real daemon process: import, cluster, re-import, move, retag, delete, the
daemon placing new files across a restart. After every step the library must be whole:

- every audio file in the library folder is in exactly one playlist;
- its file tags and (for a beets item) its beets fields name that playlist;
- the store passes `PRAGMA integrity_check`;
- nothing was analysed twice: a step adds analyses only for the files it brought in.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, BeetsEnv

from beetsplug.cluster.output.file_tags import read_file_tags
from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow

AUDIO = {".mp3", ".flac", ".ogg", ".opus", ".m4a"}
K = "3"


class Library:
    def __init__(self, env: BeetsEnv):
        self.env = env
        self.store = env.root / "cluster.db"
        self.analysed: dict[bytes, float] = {}

    def audio_files(self) -> list[Path]:
        return sorted(p for p in self.env.music.rglob("*")
                      if p.suffix in AUDIO and self.env.playlists not in p.parents)

    def playlists(self) -> dict[str, list[Path]]:
        return {f.stem: [Path(os.path.normpath(f.parent / line)) for line in read_playlist(f)]
                for f in sorted(self.env.playlists.glob("*.m3u8"))}

    def beets_fields(self) -> dict[Path, tuple[str, str]]:
        out = self.env.beet("ls", "-f", "$path\t$cluster\t$cluster_playlist").stdout
        rows = (line.split("\t") for line in out.splitlines() if line.strip())
        return {Path(path): (number, name) for path, number, name in rows}

    def check(self, step: str, *, new_analyses: int) -> None:
        """The library is whole after `step`, which brought in `new_analyses` new files."""
        lists = self.playlists()
        where = Counter(p for lines in lists.values() for p in lines)
        files = self.audio_files()
        for f in files:
            assert where[f] == 1, f"{step}: {f.name} is in {where[f]} playlists"
        assert set(where) == set(files), f"{step}: playlist lines without a file"
        playlist_of = {p: name for name, lines in lists.items() for p in lines}
        for f in files:
            number, name = read_file_tags(f)
            assert name == playlist_of[f] and number == int(name[:2]), (step, f.name, name)
        for path, (number, name) in self.beets_fields().items():
            if path.exists():
                assert name == playlist_of[path] and int(number) == int(name[:2]), (step, path)
        with sqlite3.connect(self.store) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), step
            # a vector is the audio's identity (a move keeps it); a second analysis of the
            # same audio gives the same vector with a new time
            analysed = dict(db.execute("SELECT vector, analysed_at FROM tracks "
                                       "WHERE error IS NULL"))
        again = [t for v, t in analysed.items() if v in self.analysed and t != self.analysed[v]]
        assert not again, f"{step}: {len(again)} files analysed again"
        assert len(analysed.keys() - self.analysed.keys()) == new_analyses, step
        self.analysed.update(analysed)

    def cluster(self) -> str:
        return self.env.beet("cluster", "-n", K).stdout


class Daemon:
    """`python -m clusterd`, the installed daemon with the real core, on the env's config."""

    def __init__(self, env: BeetsEnv):
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "BEETSDIR": str(self.env.config_dir),
               "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")])}
        self.log = self.env.root / f"clusterd-{time.monotonic_ns()}.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "clusterd"], env=env,
                                         stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=60) == 0, self.log.read_text()

    def wait_placed(self, lib: Library, path: Path, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            if any(path in lines for lines in lib.playlists().values()):
                time.sleep(1.0)  # the tag follows the line
                return
            time.sleep(0.2)
        raise AssertionError(f"{path.name} never placed:\n{self.log.read_text()}")


def test_a_users_workflow_loses_nothing(tmp_path, full_slice):
    env = BeetsEnv(tmp_path, quiet_seconds=0.5, max_wait_seconds=5)
    lib = Library(env)
    labels = sorted(full_slice.labels())
    first, later = labels[:6] + labels[-6:], [labels[7], labels[-8]]

    full_slice.copy_to(env.music, first)
    env.beet("import", "-A", "-s", "-q", str(env.music))
    assert "12 analysed" in lib.cluster()
    lib.check("first cluster", new_analyses=12)

    album = min(p for p in env.music.iterdir() if p.is_dir() and p != env.playlists)
    env.beet("import", "-A", "-s", "-q", "--noincremental", str(album))
    lib.check("re-import", new_analyses=0)
    assert "0 analysed" in lib.cluster()
    lib.check("cluster after the re-import", new_analyses=0)

    (env.music / "Moved").mkdir()
    env.beet("move", "-d", str(env.music / "Moved"), f"path:{album}")
    assert list((env.music / "Moved").rglob("*.*"))
    lib.check("beet move", new_analyses=0)
    assert "0 analysed" in lib.cluster()

    retagged = lib.audio_files()[0]
    env.beet("modify", "-y", "-w", f"path:{retagged}", "title=A new title")
    lib.check("retag", new_analyses=0)
    out = lib.cluster()
    assert "0 analysed" in out and "1 retagged" in out, out
    lib.check("cluster after the retag", new_analyses=0)

    gone = lib.audio_files()[-1]
    env.beet("remove", "-d", "-f", f"path:{gone}")
    assert not gone.exists()
    lib.check("beet remove -d", new_analyses=0)

    daemon = Daemon(env)
    daemon.start()
    arrived = full_slice.copy_to(env.music / "New", [later[0]])[0]
    daemon.wait_placed(lib, arrived)
    daemon.stop()
    lib.check("a file placed by the daemon", new_analyses=1)

    arrived = full_slice.copy_to(env.music / "New", [later[1]])[0]  # while the daemon is down
    daemon.start()
    daemon.wait_placed(lib, arrived)
    daemon.stop()
    lib.check("the daemon's catch-up after a restart", new_analyses=1)

    assert "0 analysed" in lib.cluster()
    lib.check("the last cluster", new_analyses=0)
