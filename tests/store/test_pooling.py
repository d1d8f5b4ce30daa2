"""A backend's pooling and windows per track are part of its version: the store re-analyses a
file it holds under another pooling, and never mixes the two."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import pick_clips

from beetsplug.cluster.config import Settings
from beetsplug.cluster.embedders.base import pool
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Analysis, Track

MEAN_ONLY_VERSION = "3-11025hz-5s"  # what the hand-crafted backend stored before mean_std
# what it stored from issue 19 to issue 20, whose rule brought back the mean (of 8 windows)
MEAN_STD_VERSION = "3-11025hz-5s-mean_std"


def test_pool_puts_the_spread_after_the_mean():
    w = np.array([[1.0, 10.0], [3.0, 10.0]], dtype=np.float32)
    assert pool(w, "mean").tolist() == [2.0, 10.0]
    assert pool(w, "mean_std").tolist() == [2.0, 10.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="pooling"):
        pool(w, "max")


def test_a_pooled_backends_vectors_have_their_own_version(tmp_path, emotify):
    clip = str(pick_clips(per_genre=1)[0])
    settings = Settings(workers=1, store=tmp_path / "cluster.db", aggregate="chunk_level",
                        playlist_dir=tmp_path / "pl", write_tags=False)
    core = Library(settings)
    try:
        emb = core.embedder
        assert emb.pooling == "mean" and emb.version.endswith("-mean-8w")
        assert emb.version not in (MEAN_ONLY_VERSION, MEAN_STD_VERSION)
        st = os.stat(clip)
        # the file as the mean_std backend left it: same size and mtime, a 170-d vector
        core.store.save([Analysis(clip, st.st_size, st.st_mtime, emb.name, MEAN_STD_VERSION,
                                  vector=np.zeros(2 * emb.window_dim, np.float32))])
        report = core.analyse([Track(clip)])
        assert report.analysed == 1 and report.cached == 0
        kept, mats = core.store.arrays([clip], emb.name, emb.version)
        _, windows = core.store.arrays([clip], emb.name, emb.version, windows=True)
        assert kept == [clip] and core.store.arrays([clip], emb.name, MEAN_STD_VERSION)[0] == []
        vector, w = mats[0], windows[0]
        assert vector.shape == (emb.vector_dim,) == (emb.window_dim,)
        assert w.shape[1] == emb.window_dim
        np.testing.assert_allclose(vector, pool(w, "mean"), rtol=1e-5, atol=1e-6)
        assert core.analyse([Track(clip)]).cached == 1  # the new version is kept
    finally:
        core.close()


def test_a_chunk_level_run_of_a_pooled_backend_is_judged_in_its_windows_space(tmp_path, emotify):
    clips = [str(p) for p in pick_clips(per_genre=2)]
    settings = Settings(workers=1, store=tmp_path / "cluster.db", aggregate="chunk_level",
                        clusters=2, playlist_dir=tmp_path / "pl", write_tags=False)
    core = Library(settings)
    try:
        tracks = [Track(p) for p in clips]
        core.analyse(tracks)
        core.recluster(tracks)
        run = core.store.last_run("handcrafted")
        measures = core.evaluate(run, {p: p.split("/")[-2] for p in clips})
    finally:
        core.close()
    assert measures["n"] == len(clips) and 0.0 <= measures["nmi"] <= 1.0
    assert -1.0 <= measures["silhouette"] <= 1.0


def test_the_handcrafted_backend_keeps_its_own_windows_per_track(tmp_path, emotify):
    """Issue 20's curve chose 8 windows per hand-crafted track (the fewest within noise of every
    window on the three dev sets), not the library's quantile length; `max_windows` still
    overrides it. A 2-minute file has 24 windows of 5 s: 8 of them, evenly spread, are kept."""
    import soundfile as sf

    y, sr = sf.read(pick_clips(per_genre=1)[0], dtype="float32")
    long = tmp_path / "long.wav"
    sf.write(long, np.tile(y.mean(axis=1), 5)[: 120 * sr], sr, subtype="PCM_16")
    kept = {}
    for cap in (None, 3):
        settings = Settings(workers=1, store=tmp_path / f"{cap}.db", max_windows=cap,
                            window_quantile=1.0, aggregate="chunk_level",
                            playlist_dir=tmp_path / "pl", write_tags=False)
        core = Library(settings)
        try:
            assert core.embedder.windows_per_track == 8
            core.analyse([Track(str(long), duration=120.0)])
            emb = core.embedder
            kept[cap] = core.store.arrays([str(long)], emb.name, emb.version, windows=True)[1][0]
        finally:
            core.close()
    assert len(kept[None]) == 8  # not the 24 that window_quantile 1.0 would allow
    assert len(kept[3]) == 3
    # the first and last of 8 are the first and last of 3: the same spread windows
    np.testing.assert_allclose(kept[3][[0, -1]], kept[None][[0, -1]], rtol=1e-4, atol=1e-4)
