"""The core's choice of the radio's next songs (`Library.next_songs`) on real analysed clips:
no seed and nothing to avoid is chosen, and the listener's history lets often-skipped and
low-rated songs sink below songs they were ahead of."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_clips, pick_clips

from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.radio import Listening, recent, sink
from beetsplug.cluster.records import Track


@pytest.fixture(scope="module")
def core(tmp_path_factory, emotify):
    root = tmp_path_factory.mktemp("radio_core")
    clips = copy_clips(pick_clips(per_genre=3), root / "music")
    tracks = {str(c): Track(str(c), fields={"artist": f"Band {i}", "title": f"Song {i}"})
              for i, c in enumerate(clips)}
    lib = Library(Settings(workers=1, store=root / "s.db",
                           playlist_dir=root / "music" / "Playlists"))
    lib.analyse(list(tracks.values()))
    yield lib, tracks
    lib.close()


def test_next_songs_leave_out_seeds_and_recent_songs(core):
    lib, tracks = core
    paths = list(tracks)
    seeds = [tracks[paths[0]], tracks[paths[1]]]
    plain = lib.next_songs(seeds, tracks, n=4)
    assert len(plain) == 4 and not {p.path for p in plain} & {paths[0], paths[1]}
    assert [p.distance for p in plain] == sorted(p.distance for p in plain)
    avoid = {plain[0].path, plain[2].path}
    got = lib.next_songs(seeds, tracks, n=4, avoid=avoid)
    assert len(got) == 4 and not {p.path for p in got} & avoid
    assert not list(Path(lib.settings.similar_folder).glob("*"))  # no playlist written


def test_often_skipped_and_low_rated_songs_sink(core):
    lib, tracks = core
    seeds = [tracks[next(iter(tracks))]]
    plain = [p.path for p in lib.next_songs(seeds, tracks, n=5)]
    history = {plain[0]: Listening(play_count=1, skip_count=9),
               plain[1]: Listening(play_count=4, rating=0.0)}
    sunk = [p.path for p in lib.next_songs(seeds, tracks, n=5, history=history)]
    assert sunk[0] == plain[2], (plain, sunk)  # both fell behind the songs they led
    for i in (0, 1):
        assert plain[i] not in sunk or sunk.index(plain[i]) > i + 1, (plain, sunk)
    rest = [p for p in sunk if p in plain[2:]]
    assert rest == [p for p in plain[2:] if p in rest]  # the others keep their order
    # one early skip says nothing yet; a rating at or above mpdstats' start changes nothing
    assert sink(Listening(skip_count=1)) == 0 and sink(Listening(rating=0.8)) == 0


def test_recent_is_played_or_queued_within_the_hours():
    now = 1_000_000.0
    history = {"a": Listening(last_played=now - 3600), "b": Listening(last_played=now - 90000),
               "c": Listening(play_count=3)}
    assert recent(history, {"d": now - 60, "e": now - 90000}, 24, now) == {"a", "d"}
