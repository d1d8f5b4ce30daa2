"""Issue 6 end to end: `beet cluster -n 4` on real clips, then a real MPD loads every playlist.

The beets library folder is MPD's music_directory. For each path mode MPD can read, every
playlist loads and MPD queues exactly the tracks the file lists, in its order.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

import pytest
from conftest import BeetsEnv, pick_clips
from mpd_server import MpdServer, mpd_or_skip

from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow


def in_music(music: Path, line: str, playlist: Path) -> str:
    """A playlist line as MPD names songs: relative to music_directory."""
    full = line if os.path.isabs(line) else os.path.join(playlist.parent, line)
    return Path(posixpath.normpath(full)).relative_to(music).as_posix()


@pytest.mark.parametrize("mode", ["playlist", "library", "absolute"])
def test_beet_cluster_playlists_load_in_mpd(tmp_path, emotify, mode):
    mpd_or_skip()
    server = MpdServer(tmp_path)
    # playlist/absolute: files inside the music folder; library: MPD's playlist_directory.
    folder = server.playlists if mode == "library" else server.music / "Playlists"
    env = BeetsEnv(tmp_path, path_mode=mode, playlist_dir=str(folder))
    clips = env.import_clips(pick_clips(per_genre=3))
    env.beet("cluster", "-n", "4")
    files = sorted(folder.glob("*.m3u" if mode == "library" else "*.m3u8"))
    assert len(files) == 4

    server.start()
    try:
        server.update()
        queued_total = []
        for f in files:
            if mode == "library":
                expected = [Path(line).as_posix() for line in read_playlist(f)]
                name = f.stem
            else:
                expected = [in_music(server.music, line, f) for line in read_playlist(f)]
                name = f"Playlists/{f.name}"
            queued = server.queue_after_load(name)
            assert queued == expected and queued, (f.name, queued, expected)
            queued_total += queued
        assert sorted(queued_total) == sorted(c.relative_to(server.music).as_posix()
                                              for c in clips)
    finally:
        server.stop()
