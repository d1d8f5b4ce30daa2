"""A real MPD loads a `beet similar` playlist (its own marker line is a comment MPD skips) and
queues exactly the tracks it lists, in order: relative to the playlist file inside the music
folder, and in library mode in MPD's playlist folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import pick_clips
from mpd_server import MpdServer, mpd_or_skip

from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track


@pytest.mark.slow
def test_mpd_loads_similar_playlists(tmp_path: Path, emotify: Path) -> None:
    mpd_or_skip()
    server = MpdServer(tmp_path / "mpd")
    tracks = []
    for i, clip in enumerate(pick_clips(per_genre=2)):
        target = server.music / ("Ünïcödé 雨" if i % 2 else "plain") / f"{i:02d} {clip.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, target)
        tracks.append(Track(str(target), duration=30.0, display_name=f"Artist {i} - Song {i}",
                            fields={"artist": f"Artist {i}", "title": f"Song {i}"}))
    s = Settings(workers=1, store=tmp_path / "s.db", library_root=server.music,
                 playlist_dir=server.music / "Playlists")
    core = Library(s)
    server.start()
    try:
        core.analyse(tracks)
        server.update()
        near = core.similar([tracks[0]], tracks, n=5)
        expected = [Path(p.path).relative_to(server.music).as_posix() for p in near.tracks]
        assert near.file.parent == server.music / "Playlists" / "Similar"  # similar_dir
        assert server.queue_after_load(near.file.relative_to(server.music).as_posix()) == expected
        # MPD's stored playlists are one flat folder: similar_dir '' puts them there too
        core.settings = s.with_(path_mode="library", playlist_dir=server.playlists,
                                similar_dir=server.playlists)
        path = core.similar([tracks[1], tracks[6]], tracks, n=4, path=True)
        expected = [Path(p.path).relative_to(server.music).as_posix() for p in path.tracks]
        assert server.queue_after_load(path.file.stem) == expected and len(expected) == 4
    finally:
        server.stop()
        core.close()
