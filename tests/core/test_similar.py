"""`Library.similar` on real clips and a real store: nearest tracks, paths, the variety rules, text
search with a tiny CLAP model; and `beet similar` through the real beets command line."""

from __future__ import annotations

import shutil
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from conftest import copy_clips, pick_clips

from beetsplug.cluster import neighbours
from beetsplug.cluster.config import Settings
from beetsplug.cluster.errors import ClusterError
from beetsplug.cluster.library import Library
from beetsplug.cluster.output.playlists import read_playlist, write_playlists
from beetsplug.cluster.output.similar_playlist import SIMILAR_MARKER
from beetsplug.cluster.records import Track

pytestmark = pytest.mark.slow  # a real store of 21 analysed files, shared by the module


def tagged(path: Path, artist=None, album=None, title=None) -> Track:
    fields = {"artist": artist, "album": album, "title": title}
    display_name = " - ".join(x for x in (artist, title) if x) or None
    return Track(str(path), display_name=display_name, fields=fields)


def hostile_library(tmp_path: Path) -> tuple[list[Track], Path]:
    """Ten tracks of one artist over two albums, one clip under two albums (the same
    recording), six by other artists, two with no tags at all; and a file that is not audio."""
    clips = copy_clips(pick_clips(per_genre=5), tmp_path / "music")  # 20 real clips
    tracks = [tagged(p, "Solo", "One" if i < 5 else "Two", f"Solo {i}")
              for i, p in enumerate(clips[:10])]
    twin = clips[10]
    copy = tmp_path / "music" / "best of" / twin.name
    copy.parent.mkdir()
    shutil.copyfile(twin, copy)
    tracks += [tagged(twin, "Twin", "Original", "Twin Song"),
               tagged(copy, "Twin", "Best Of", "Twin Song")]
    tracks += [tagged(p, f"Other {i}", f"Album {i}", f"Other {i}")
               for i, p in enumerate(clips[11:17])]
    tracks += [Track(str(p)) for p in clips[17:19]]  # untagged: each its own
    junk = tmp_path / "music" / "junk.mp3"
    junk.write_bytes(b"not audio at all" * 100)
    return [*tracks, Track(str(junk))], tmp_path / "playlists"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, emotify):
    tmp_path = tmp_path_factory.mktemp("hostile")
    tracks, folder = hostile_library(tmp_path)
    core = Library(Settings(workers=2, playlist_dir=folder, store=tmp_path / "s.db"))
    core.analyse(tracks)
    yield core, tracks
    core.close()


def check_variety(core: Library, tracks: list[Track], paths: list[str]) -> None:
    info = {t.path: t for t in tracks}
    assert len(set(paths)) == len(paths) and all(Path(p).exists() for p in paths)
    artists = [(info[p].fields or {}).get("artist") for p in paths]
    albums = [(info[p].fields or {}).get("album") for p in paths]
    assert artists.count("Solo") <= 3
    assert all(albums.count(a) <= 3 for a in set(albums) - {None})
    assert artists.count("Twin") <= 1  # one recording under two albums counts once
    assert all(a is None or a != b for a, b in pairwise(artists))  # avoidable here


def test_similar_seed_first_then_nearest_with_variety(hostile):
    core, tracks = hostile
    seed = tracks[0]
    got = core.similar([seed], tracks, n=15)
    paths = [p.path for p in got.tracks]
    assert paths[0] == seed.path and got.tracks[0].distance == pytest.approx(0.0, abs=1e-6)
    check_variety(core, tracks, paths)
    # 3 Solo + 1 Twin + 6 others + 2 untagged: the rules, not n, end the list
    assert len(paths) == 12 and sum("best of" in p or "Twin" in str(p) for p in paths) <= 1
    assert [(tracks_by(tracks, p).fields or {}).get("artist") for p in paths].count("Twin") == 1
    assert got.failed == 1 and got.unanalysed == 0  # the junk file: left out, counted
    assert read_playlist(got.file) == [_line(got.file, p) for p in paths]
    assert got.file.name == "Similar to Solo 0.m3u8"
    assert SIMILAR_MARKER in got.file.read_text().splitlines()[:3]


def test_tracks_moved_for_variety_are_marked_and_lists_go_to_their_own_folder(hostile):
    # issue 19: the distance column read out of order with nothing saying why, and similar
    # lists sat among the cluster playlists
    core, tracks = hostile
    got = core.similar([tracks[0]], tracks, n=15, pretend=True)
    dist = [p.distance for p in got.tracks]
    for i, p in enumerate(got.tracks):
        assert p.moved == (i > 0 and p.distance < max(dist[:i])), (i, dist)
    assert any(p.moved for p in got.tracks), dist  # ten Solo tracks: some must wait
    walked = core.similar([tracks[0], tracks[12]], tracks, n=6, path=True, pretend=True)
    assert not any(p.moved for p in walked.tracks)  # a path's distances are steps
    written = core.similar([tracks[0]], tracks, n=4)
    assert written.file.parent == core.settings.playlist_dir / "Similar"
    s = core.settings
    try:
        core.settings = s.with_(similar_dir=s.playlist_dir.parent / "mine")
        moved = core.similar([tracks[0]], tracks, n=4)
    finally:
        core.settings = s
    assert moved.file == s.playlist_dir.parent / "mine" / "Similar to Solo 0.m3u8"


def tracks_by(tracks: list[Track], path: str) -> Track:
    return next(t for t in tracks if t.path == path)


def _line(playlist: Path, path: str) -> str:
    import os

    return os.path.relpath(path, playlist.parent)


def test_several_seeds_rank_by_the_furthest_seed(hostile):
    core, tracks = hostile
    seeds = [tracks[11], tracks[13]]  # two unlike clips
    got = core.similar(seeds, tracks, n=30, pretend=True)
    assert got.file is None and got.tracks[0].path == seeds[0].path
    kept, mats = core.store.arrays(sorted({t.path for t in tracks}), "handcrafted",
                                   core.embedder.version)
    U = neighbours.cosine_space(np.stack(mats))
    idx = {p: i for i, p in enumerate(kept)}
    worst = (U @ U[[idx[s.path] for s in seeds]].T).min(axis=1)
    for p in got.tracks[1:]:
        assert p.distance == pytest.approx(1 - worst[idx[p.path]], abs=1e-5)


def test_path_starts_and_ends_on_its_two_songs(hostile):
    core, tracks = hostile
    a, b = tracks[12], tracks[16]
    got = core.similar([a, b], tracks, n=8, path=True)
    paths = [p.path for p in got.tracks]
    assert paths[0] == a.path and paths[-1] == b.path and len(paths) == 8
    check_variety(core, tracks, paths)
    assert got.file.name == "Other 0 to Other 4.m3u8"
    with pytest.raises(ClusterError, match="two different songs"):
        core.similar([a, a], tracks, n=5, path=True)


def test_a_seed_with_no_vector_is_analysed_first(tmp_path, emotify):
    clips = copy_clips(pick_clips(per_genre=2), tmp_path / "music")
    tracks = [Track(str(p)) for p in clips]
    core = Library(Settings(workers=1, playlist_dir=tmp_path / "pl", store=tmp_path / "s.db"))
    try:
        core.analyse(tracks[1:])
        got = core.similar([tracks[0]], tracks, n=4)
        assert got.report.analysed == 1 and got.tracks[0].path == tracks[0].path
        assert len(got.tracks) == 4
    finally:
        core.close()


def test_a_cluster_run_keeps_the_similar_playlist(hostile):
    core, tracks = hostile
    got = core.similar([tracks[0]], tracks, n=5)
    before = got.file.read_text()
    from beetsplug.cluster.output.playlists import Entry

    written = write_playlists({"01 cluster": [Entry(Path(tracks[1].path), 30.0, "x")]},
                              got.file.parent)
    assert got.file.exists() and got.file.read_text() == before
    assert [f.name for f in written] == ["01 cluster.m3u8"]
    again = core.similar([tracks[0]], tracks, n=3)  # a rerun replaces it
    assert again.file == got.file and len(read_playlist(got.file)) == 3


def test_duplicate_by_near_zero_distance_with_same_artist_and_title():
    U = neighbours.unit_rows(np.array([[1.0, 0.0], [1.0, 1e-6], [0.9, 0.1], [0.0, 1.0]]))
    meta = [neighbours.Meta("a", None, "song"), neighbours.Meta("a", None, "song"),
            neighbours.Meta("a", None, "other"), neighbours.Meta(None, None, None)]
    chosen = neighbours.pick(range(4), 4, neighbours.Variety(meta, U, 0, 0))
    assert chosen == [0, 3, 2]  # 1 is 0 again; 2 waits one place (same artist as 0)


def test_text_search_needs_a_text_tower(hostile):
    core, tracks = hostile
    with pytest.raises(ClusterError, match="text tower"):
        core.similar([], tracks, n=5, text="calm piano")


@pytest.mark.slow
def test_text_search_with_a_tiny_clap(tmp_path, emotify):
    pytest.importorskip("transformers")
    from clap_tiny import save_tiny

    model = save_tiny(tmp_path / "tiny-clap")
    clips = copy_clips(pick_clips(per_genre=1), tmp_path / "music")
    tracks = [Track(str(p)) for p in clips]
    s = Settings(backend="clap", model=str(model), device="cpu", workers=1,
                 playlist_dir=tmp_path / "pl", store=tmp_path / "s.db")
    core = Library(s)
    try:
        core.analyse(tracks)
        got = core.similar([], tracks, n=4, text="ab a b")
        kept, mats = core.store.arrays([t.path for t in tracks], "clap", core.embedder.version)
        q = core.embedder.embed_text("ab a b")
        cos = neighbours.unit_rows(np.stack(mats)) @ q
        assert got.tracks[0].path == kept[int(np.argmax(cos))]
        assert sorted(p.path for p in got.tracks) == sorted(kept)
        assert got.file.name == "Sounds like ab a b.m3u8"
    finally:
        core.close()


def test_the_cosine_space_is_the_clusterings_scaled_space(hostile):
    from beetsplug.cluster.clustering.fit import reduce

    core, tracks = hostile
    _, mats = core.store.arrays(sorted({t.path for t in tracks}), "handcrafted",
                                core.embedder.version)
    X = np.stack(mats)
    U = neighbours.cosine_space(X, pca_variance=0.95)
    P = reduce(X, pca_variance=0.95).P
    assert U.shape == P.shape
    V = neighbours.unit_rows(P)
    np.testing.assert_allclose(U @ U.T, V @ V.T, atol=1e-5)
