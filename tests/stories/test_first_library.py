"""README's "A first library", as written there, on full-length tracks and a real MPD.

The config blocks and commands are read out of README.md, not copied here, so the page and
the test cannot drift apart. HOME is a temp dir, so `~/Music` is the test's own folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from mpd_server import MpdServer, mpd_or_skip

from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow

TRACKS = 10  # full-length tracks from both games of the slice


def first_library_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split("### A first library", 1)[1].split("\n## ", 1)[0]


def fenced(section: str) -> list[tuple[str, str]]:
    """The section's code blocks as (info string, text)."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)


def yaml_blocks(section: str) -> list[dict]:
    return [yaml.safe_load(text) for info, text in fenced(section) if info == "yaml"]


def shell_lines(section: str) -> list[list[str]]:
    """The commands of the section's plain code block, comments dropped."""
    block = next(text for info, text in fenced(section) if not info)
    return [line.split("#")[0].split() for line in block.splitlines() if line.strip()]


def in_home(home: Path, arg: str) -> str:
    """`~` as the shell would expand it for a user whose HOME is `home`."""
    return str(home) + arg[1:] if arg == "~" or arg.startswith("~/") else arg


def beet(home: Path, argv: list[str]) -> subprocess.CompletedProcess:
    assert argv[0] == "beet"
    env = {k: v for k, v in os.environ.items() if k != "BEETSDIR"}
    env.update(HOME=str(home), PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "daemon")]))
    args = [in_home(home, a) for a in argv[1:]]
    proc = subprocess.run([sys.executable, "-m", "beets", *args], env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=900,
                          check=False)
    assert proc.returncode == 0, f"{argv}: {proc.stdout}\n{proc.stderr}"
    return proc


def first_library(home: Path, full_slice, extra: dict | None = None) -> Path:
    section = first_library_section()
    config = yaml_blocks(section)[0]
    for key, value in (extra or {}).items():
        config.setdefault(key, {}).update(value)
    (home / ".config" / "beets").mkdir(parents=True)
    (home / ".config" / "beets" / "config.yaml").write_text(yaml.safe_dump(config))
    music = home / "Music"
    labels = sorted(full_slice.labels())
    full_slice.copy_to(music, labels[: TRACKS // 2] + labels[-TRACKS // 2:])
    for argv in shell_lines(section):
        beet(home, argv)
    return music


def test_the_first_library_loads_in_mpd_as_readme_says(tmp_path, full_slice):
    mpd_or_skip()
    home = tmp_path / "home"
    music = first_library(home, full_slice)
    playlists = sorted((music / "Playlists").glob("*.m3u8"))
    assert len(playlists) == 6

    server = MpdServer(tmp_path / "mpd", music=music)
    server.start()
    try:
        server.update()
        queued = []
        for f in playlists:  # README: mpc load "Playlists/01 ….m3u8"
            got = server.queue_after_load(f"Playlists/{f.name}")
            want = [os.path.relpath(f.parent / line, music) for line in read_playlist(f)]
            assert got == want and got, f.name
            queued += got
        assert len(queued) == TRACKS
    finally:
        server.stop()


def test_the_one_line_for_mpd_stored_playlists(tmp_path, full_slice):
    mpd_or_skip()
    home = tmp_path / "home"
    line = yaml_blocks(first_library_section())[1]
    music = first_library(home, full_slice, line)
    stored = Path(in_home(home, line["cluster"]["playlist_dir"]))
    files = sorted(stored.glob("*.m3u"))
    assert len(files) == 6

    server = MpdServer(tmp_path / "mpd", music=music, playlists=stored)
    server.start()
    try:
        server.update()
        assert sorted(server.mpc("lsplaylists")) == sorted(f.stem for f in files)
        for f in files:  # README: mpc load "01 …"
            assert server.queue_after_load(f.stem) == list(read_playlist(f)), f.name
    finally:
        server.stop()
