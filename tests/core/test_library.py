"""The core's less travelled paths: chunk_level, a network backend, placing new tracks."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import BeetsEnv, copy_clips, pick_clips

from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.output.playlists import read_playlist
from beetsplug.cluster.records import Track
from beetsplug.cluster.store import Store


def test_chunk_level_clusters_windows_and_votes(tmp_path, emotify):
    clips = copy_clips(pick_clips(per_genre=2), tmp_path / "music")
    tracks = [Track(str(p)) for p in clips]
    store = Store(tmp_path / "s.db")
    core = Library(Settings(aggregate="chunk_level", clusters=2, workers=1), store)
    assert core.analyse(tracks).analysed == len(clips)
    paths, mats = store.arrays([t.path for t in tracks], "handcrafted", core.embedder.version,
                               windows=True)
    assert len(paths) == len(clips) and all(m.shape == (6, core.embedder.window_dim) for m in mats)
    run = core.plan(tracks)
    assert sorted(run.assignments) == sorted(t.path for t in tracks)
    assert {c for c, _, _ in run.assignments.values()} == {1, 2}
    # chunk_average on the same store needs no new analysis; chunk_level rows serve it
    avg = Library(Settings(clusters=2, workers=1), store)
    assert avg.analyse(tracks).analysed == 0


def test_a_network_backend_through_the_core(tmp_path, emotify):
    pytest.importorskip("transformers")
    from clap_tiny import save_tiny

    model = save_tiny(tmp_path / "tiny-clap")
    clips = copy_clips(pick_clips(per_genre=1), tmp_path / "music")
    tracks = [Track(str(p)) for p in clips]
    store = Store(tmp_path / "s.db")
    # two decode workers feed the model in the main process, windows batched across tracks
    core = Library(Settings(backend="clap", model=str(model), device="cpu", clusters=2,
                             workers=2), store)
    report = core.analyse(tracks)
    assert report.analysed == len(clips) and not report.failed
    _, vecs = store.arrays([t.path for t in tracks], "clap", core.embedder.version)
    assert np.stack(vecs).shape == (len(clips), core.embedder.vector_dim)
    assert len(core.plan(tracks).assignments) == len(clips)
    # a clap run stores clap vectors only: no handcrafted row of any version (a query by one
    # version string held whatever the run did once that version was gone)
    assert sorted(store.paths("clap")) == sorted(t.path for t in tracks)
    assert store.paths("handcrafted") == []


@pytest.mark.slow
def test_import_stage_places_new_tracks(tmp_path, emotify):
    env = BeetsEnv(tmp_path, auto=True)
    env.import_clips(pick_clips(per_genre=2))
    env.beet("cluster", "-n", "2")
    new = tmp_path / "incoming" / "new.mp3"
    new.parent.mkdir()
    shutil.copyfile(pick_clips(per_genre=1, offset=5)[0], new)
    env.beet("import", "-A", "-s", "-q", str(new))
    number = int(env.beet("ls", "-f", "$cluster", f"path:{new}").stdout.strip())
    [playlist] = [f for f in env.playlists.glob(f"{number:02d} *.m3u8")]
    assert str(new) in [str((playlist.parent / x).resolve()) for x in read_playlist(playlist)]


def test_auto_k_on_too_few_tracks_is_a_clear_error(tmp_path, emotify):
    from beetsplug.cluster.errors import ClusterError

    store = Store(tmp_path / "s.db")
    core = Library(Settings(clusters=None, workers=1), store)
    tracks = [Track(str(p)) for p in pick_clips(per_genre=1)[:2]]
    core.analyse(tracks)
    with pytest.raises(ClusterError, match="-n auto needs more than 2 analysed tracks"):
        core.plan(tracks)


def test_a_new_track_lands_in_a_cluster_whose_tracks_were_all_deleted(tmp_path, emotify):
    clips = copy_clips(pick_clips(per_genre=2), tmp_path / "music")
    store = Store(tmp_path / "s.db")
    core = Library(Settings(clusters=2, workers=1, playlist_dir=tmp_path / "lists"), store)
    tracks = [Track(str(p)) for p in clips]
    core.analyse(tracks)
    run = core.recluster(tracks)
    name, members = next(iter(run.playlists.items()))
    for path in members:  # the daemon's removal of every track of one playlist
        store.remove_under(path)
    placed = core.place([Track(members[0])]).assigned  # the same music comes back
    assert placed[members[0]][2] == name  # into the playlist of the same name, no crash
