"""Shared fixtures: real clips from ../shared/data/emotify-dev, copied before anything writes."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

EMOTIFY = Path(__file__).resolve().parents[2] / "shared" / "data" / "emotify-dev"
GENRES = ("classical", "electronic", "pop", "rock")


def emotify_labels() -> dict[Path, str]:
    """Every clip of emotify-dev with its genre, in a stable order."""
    with open(EMOTIFY / "labels.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    return {EMOTIFY / r["file"]: r["genre"] for r in rows}


def pick_clips(per_genre: int, offset: int = 0) -> list[Path]:
    """`per_genre` clips of each genre, the same ones every time."""
    by_genre: dict[str, list[Path]] = {g: [] for g in GENRES}
    for path, genre in emotify_labels().items():
        by_genre[genre].append(path)
    return [p for g in GENRES for p in by_genre[g][offset : offset + per_genre]]


def copy_clips(clips: list[Path], dest: Path) -> list[Path]:
    """Copy clips into dest/<genre>/ (the source folder is read-only)."""
    out = []
    for clip in clips:
        target = dest / clip.parent.name / clip.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, target)
        out.append(target)
    return out


def clustered_folder(tmp_path: Path, per_genre: int):
    """A music folder of real clips clustered once (k=2) through the core, as a first run the
    daemon places new files by; returns the Settings and the clips."""
    from beetsplug.cluster.config import Settings
    from beetsplug.cluster.library import Library
    from beetsplug.cluster.records import Track

    music = tmp_path / "music"
    settings = Settings(clusters=2, workers=1, store=tmp_path / "cluster.db",
                        playlist_dir=music / "Playlists", library_root=music)
    clips = copy_clips(pick_clips(per_genre=per_genre), music)
    core, tracks = Library(settings), [Track(str(p)) for p in clips]
    try:
        core.analyse(tracks)
        core.recluster(tracks)
    finally:
        core.close()
    return settings, clips


@pytest.fixture(autouse=True)
def beets_logs_reach_caplog():
    """beets before 2.14 gives its `beets` logger a stderr handler of its own and stops it
    propagating; 2.14 leaves it plain. In-process tests read our log lines through pytest's
    capture, so the logger is made plain for each test, as the newest beets has it (CI runs
    the suite on both)."""
    import logging

    from beetsplug.cluster.log import outside_beets

    beets_logger = logging.getLogger("beets")
    saved = beets_logger.propagate, list(beets_logger.handlers)
    outside_beets()
    yield
    beets_logger.propagate = saved[0]
    for handler in saved[1]:
        beets_logger.addHandler(handler)


@pytest.fixture
def no_thread_leaks():
    """The test stops every thread it started (as watchdog's own tests/conftest.py checks)."""
    import threading
    import time

    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(threading.enumerate()) - before


FULL_SLICE = Path(__file__).resolve().parents[1] / "build" / "full-slice"


@dataclass(frozen=True)
class FullLibrary:
    """A library of full-length tracks in mixed formats (MP3, FLAC, Ogg, Opus, M4A) with
    artist/album/title tags, labelled by game, as ../shared/tools/make_full_library.sh lays it."""

    root: Path

    @property
    def music(self) -> Path:
        return self.root / "music"

    def labels(self) -> dict[str, str]:
        """file (relative to music/) -> label"""
        with open(self.root / "labels.csv", newline="") as f:
            return {r["file"]: r["label"] for r in csv.DictReader(f)}

    def copy_to(self, dest: Path, files: list[str] | None = None) -> list[Path]:
        """Copy the tracks (all, or `files`) into dest, keeping the Artist/Album/ layout."""
        out = []
        for rel in files if files is not None else sorted(self.labels()):
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.music / rel, target)
            out.append(target)
        return out


@pytest.fixture(scope="session")
def full_slice() -> FullLibrary:
    """32 full-length tracks from two games (.ci/full-slice.sh builds them; apt downloads once,
    cached in build/). Read-only: copy before writing tags."""
    import subprocess

    if not (FULL_SLICE / "labels.csv").exists():
        subprocess.run(["bash", str(FULL_SLICE.parents[1] / ".ci" / "full-slice.sh")],
                       check=True)
    return FullLibrary(FULL_SLICE)


@pytest.fixture(scope="session")
def emotify() -> Path:
    if not (EMOTIFY / "labels.csv").exists():
        pytest.fail(f"test audio missing: {EMOTIFY} (shared/data must sit beside the checkout)")
    return EMOTIFY


REPO = Path(__file__).resolve().parents[1]


class BeetsEnv:
    """A real beets library in a temp dir, driven through the real `beet` command line."""

    def __init__(self, root: Path, **cluster_options):
        import yaml

        self.root = root
        self.music = root / "music"
        self.music.mkdir(parents=True, exist_ok=True)
        self.config_dir = root / "beetsdir"
        self.config_dir.mkdir(exist_ok=True)
        self.playlists = self.music / "Playlists"
        config = {
            "directory": str(self.music),
            "library": str(root / "library.db"),
            "plugins": ["cluster"],
            "import": {"copy": False, "write": True, "duplicate_action": "keep",
                       "log": str(root / "import.log")},
            "cluster": {"workers": 2, **cluster_options},
        }
        (self.config_dir / "config.yaml").write_text(yaml.safe_dump(config))

    def beet(self, *args: str, check: bool = True, timeout: float = 600):
        import os
        import subprocess
        import sys

        env = {**os.environ, "BEETSDIR": str(self.config_dir),
               "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")])}
        proc = subprocess.run([sys.executable, "-m", "beets", *args], env=env, text=True,
                              capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"beet {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def import_clips(self, clips: list[Path]) -> list[Path]:
        copied = copy_clips(clips, self.music)
        self.beet("import", "-A", "-s", "-q", *map(str, copied))
        return copied


@pytest.fixture
def beets_env(tmp_path, emotify) -> BeetsEnv:
    return BeetsEnv(tmp_path)
