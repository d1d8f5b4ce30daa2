"""A whole-library `beet cluster` keeps the files the daemon placed without beets."""

from __future__ import annotations

import shutil

import mutagen
import pytest
from beets import library
from clusterd.handler import CoreHandler
from conftest import BeetsEnv, pick_clips

from beetsplug.cluster.config import Settings
from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow


def lists_holding(env: BeetsEnv, path) -> list[str]:
    return [f.stem for f in sorted(env.playlists.glob("*.m3u8"))
            if str(path) in [str((f.parent / ln).resolve()) for ln in read_playlist(f)]]


def test_a_file_the_daemon_placed_stays_in_one_playlist_with_its_tag(tmp_path, emotify):
    env = BeetsEnv(tmp_path, workers=1)
    env.import_clips(pick_clips(per_genre=1))
    env.beet("cluster", "-n", "2")
    stray = env.music / "copied" / "stray.mp3"  # copied in, never imported (import_new: no)
    stray.parent.mkdir()
    shutil.copyfile(pick_clips(per_genre=1, offset=3)[0], stray)

    settings = Settings(clusters=2, workers=1, store=tmp_path / "cluster.db",
                        playlist_dir=env.playlists, library_root=env.music)
    lib = library.Library(str(tmp_path / "library.db"), str(env.music))
    handler = CoreHandler(lib, settings)
    try:
        assert handler.added([stray]) == 1
    finally:
        handler.close()
        lib._close()
    assert len(lists_holding(env, stray)) == 1  # the daemon placed it

    res = env.beet("cluster", "-n", "2")
    [playlist] = lists_holding(env, stray)
    tags = mutagen.File(stray)
    assert tags["TXXX:CLUSTER_PLAYLIST"].text == [playlist]
    assert tags["TXXX:CLUSTER"].text == [playlist[:2].lstrip("0")]  # "{number:02d} {name}"
    assert "5 tracks" in res.stdout, res.stdout  # the four items and the stray

