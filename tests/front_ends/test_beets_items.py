"""beets items as the core's tracks: the bulk read gives what building each Item would."""

from __future__ import annotations

import os

from beets import library
from conftest import copy_clips, pick_clips

from beetsplug.cluster.beets_items import item_path, track_of
from beetsplug.cluster.item_table import read_table, read_tracks


def test_read_table_matches_the_items_without_building_them(tmp_path, emotify):
    music = tmp_path / "music"
    clips = copy_clips(pick_clips(per_genre=1), music)
    outside = tmp_path / "elsewhere" / os.fsdecode(b"odd \xff.mp3")  # beets stores it absolute
    outside.parent.mkdir()
    outside.write_bytes(clips[0].read_bytes())
    lib = library.Library(str(tmp_path / "library.db"), str(music))
    try:
        with lib.music_dir_context():
            for path in [*clips, outside]:
                item = library.Item.from_path(os.fsencode(path))
                item.artist, item.album = f"artist {len(lib.items())}", "an album"
                lib.add(item)
        items = sorted(lib.items(), key=lambda i: i.id)
        table = read_table(lib)
        bulk = sorted(table.values(), key=lambda t: t.item_id)
    finally:
        lib._close()
    assert [t.path for t in bulk] == [item_path(i) for i in items]
    assert len(table) == len(items) and all(item_path(i) in table for i in items)
    assert {t.path for t in bulk} == {str(p) for p in [*clips, outside]}
    for t, item in zip(bulk, items):
        one = track_of(item)
        assert t.display_name == one.display_name and t.duration == one.duration
        assert t.fields["artist"] == item.artist and t.fields["album"] == "an album"


def test_read_tracks_matches_beets_query_and_falls_back_where_beets_matches_in_python(
        tmp_path, emotify):
    music = tmp_path / "music"
    clips = copy_clips(pick_clips(per_genre=1), music)
    lib = library.Library(str(tmp_path / "library.db"), str(music))
    try:
        with lib.music_dir_context():
            for n, path in enumerate(clips):
                item = library.Item.from_path(os.fsencode(path))
                item.artist, item.genres, item.year = f"artist {n % 2}", [f"g{n % 3}"], 1990 + n
                item["cluster"] = n % 2 + 1  # a flexible field: beets matches it in Python
                lib.add(item)
        for query in ([], ["artist:artist 1"], ["genre:g2"], ["year:1991..1993"], ["^artist:0"]):
            expected = [track_of(i) for i in lib.items(query)]
            found = read_tracks(lib, query)
            assert found is not None, query
            seen = [(t.path, t.item_id, t.display_name, t.duration, t.fields) for t in found]
            wanted = [(t.path, t.item_id, t.display_name, t.duration, t.fields) for t in expected]
            assert sorted(seen) == sorted(wanted), query
            assert expected, query  # every query above matches something
        assert read_tracks(lib, ["cluster:1"]) is None
    finally:
        lib._close()
