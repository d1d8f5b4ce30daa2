"""A real MPD loads our playlists: every list loads and MPD queues exactly what the file lists.

The writer on its own, with hand-made groups and non-ASCII names; the same check on the output
of a real `beet cluster -n 4` is in test_mpd_beet_cluster.py.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import emotify_labels, pick_clips
from mpd_server import MpdServer, mpd_or_skip

from beetsplug.cluster.output.playlists import Entry, read_playlist, write_playlists

PER_GENRE = 4


def _target(music: Path, clip: Path, genre: str, i: int) -> Path:
    # Every other clip gets a non-ASCII folder and name, the kind beets makes from tags.
    if i % 2:
        return music / f"Ünïcödé {genre} 雨" / f"{i:02d} Café – {clip.stem} ♪.mp3"
    return music / genre / clip.name


@dataclass
class Setup:
    server: MpdServer
    by_genre: dict[str, list[Entry]] = field(default_factory=dict)

    @property
    def music(self) -> Path:
        return self.server.music


@pytest.fixture(scope="module")
def mpd(tmp_path_factory: pytest.TempPathFactory, emotify: Path) -> Iterator[Setup]:
    mpd_or_skip()
    setup = Setup(MpdServer(tmp_path_factory.mktemp("mpd")))
    labels = emotify_labels()
    for i, clip in enumerate(pick_clips(PER_GENRE)):
        genre = labels[clip]
        target = _target(setup.music, clip, genre, i)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, target)
        setup.by_genre.setdefault(genre, []).append(Entry(target, 30.0, target.stem))
    setup.server.start()
    try:
        setup.server.update()
        yield setup
    finally:
        setup.server.stop()


def _in_music(mpd: Setup, line: str, playlist: Path, mode: str) -> str:
    """Where a playlist line points, spelled as MPD names songs (relative to music_directory)."""
    if mode == "playlist":
        line = os.path.join(playlist.parent, line)
    elif mode == "library" and not os.path.isabs(line):
        line = os.path.join(mpd.music, line)
    return Path(posixpath.normpath(line)).relative_to(mpd.music).as_posix()


def _check_all_load(
    mpd: Setup, files: list[Path], mode: str, load_name: Callable[[Path], str]
) -> None:
    assert len(files) == 4
    for path in files:
        lines = read_playlist(path)
        expected = [_in_music(mpd, ln, path, mode) for ln in lines]
        genre_entries = mpd.by_genre[path.stem]
        assert expected == [e.path.relative_to(mpd.music).as_posix() for e in genre_entries]
        assert mpd.server.queue_after_load(load_name(path)) == expected, path.name


def test_database_has_every_clip(mpd: Setup) -> None:
    listed = mpd.server.mpc("listall")
    songs = {ln for ln in listed if ln.endswith(".mp3")}
    assert len(songs) == 4 * PER_GENRE
    assert any("雨" in s for s in songs)


def test_playlist_mode_inside_music_directory(mpd: Setup) -> None:
    folder = mpd.music / "Playlists"
    files = write_playlists(mpd.by_genre, folder)
    _check_all_load(mpd, files, "playlist", lambda p: f"Playlists/{p.name}")


def test_library_mode_in_playlist_directory(mpd: Setup) -> None:
    files = write_playlists(
        mpd.by_genre, mpd.server.playlists, mode="library", library_root=mpd.music
    )
    assert sorted(mpd.server.mpc("lsplaylists")) == sorted(mpd.by_genre)
    _check_all_load(mpd, files, "library", lambda p: p.stem)


def test_absolute_mode_in_music_directory(mpd: Setup) -> None:
    files = write_playlists(mpd.by_genre, mpd.music / "Absolute", mode="absolute")
    _check_all_load(mpd, files, "absolute", lambda p: f"Absolute/{p.name}")


def _as_m3u(files) -> list[Path]:
    """The written playlists renamed to `.m3u`, the only name MPD lists in its
    playlist_directory (the product writes `.m3u` only in library mode)."""
    return [Path(path).rename(Path(path).with_suffix(".m3u")) for path in files]


def test_absolute_mode_in_playlist_directory(mpd: Setup) -> None:
    files = _as_m3u(write_playlists(mpd.by_genre, mpd.server.playlists, mode="absolute"))
    _check_all_load(mpd, files, "absolute", lambda p: p.stem)


def test_playlist_mode_in_playlist_directory_loads_nothing(mpd: Setup) -> None:
    # The layout mistake the README warns about: MPD resolves stored playlists against
    # music_directory, so entries relative to the playlist file find nothing.
    [path] = _as_m3u(write_playlists({"wrong": mpd.by_genre["rock"]}, mpd.server.playlists))
    lines = read_playlist(path)
    assert len(lines) == PER_GENRE
    assert all((path.parent / ln).is_file() for ln in lines)  # right for a file-relative reader
    assert mpd.server.queue_after_load("wrong") == []


def test_missing_mpd_skips_locally_and_fails_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="mpd and mpc not installed"):
        mpd_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        mpd_or_skip()


def test_server_stops_cleanly(tmp_path: Path) -> None:
    mpd_or_skip()
    server = MpdServer(tmp_path)
    server.start()
    assert server.proc is not None
    pid = server.proc.pid
    assert server.mpc("status")  # answers
    server.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
