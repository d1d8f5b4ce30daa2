"""A backend that pools mean and spread stores its vectors under a version of their own: the
store re-analyses a file it holds as a mean, and never mixes the two."""

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


def test_pool_puts_the_spread_after_the_mean():
    w = np.array([[1.0, 10.0], [3.0, 10.0]], dtype=np.float32)
    assert pool(w, "mean").tolist() == [2.0, 10.0]
    assert pool(w, "mean_std").tolist() == [2.0, 10.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="pooling"):
        pool(w, "max")


def test_a_pooled_backends_vectors_have_their_own_version(tmp_path, emotify):
    clip = str(pick_clips(per_genre=1)[0])
    settings = Settings(workers=1, store_path=tmp_path / "cluster.db", aggregate="chunk_level",
                        playlist_dir=tmp_path / "pl", write_tags=False)
    core = Library(settings)
    try:
        emb = core.embedder
        assert emb.pooling == "mean_std" and emb.version.endswith("-mean_std")
        assert emb.version != MEAN_ONLY_VERSION
        st = os.stat(clip)
        # the file as the mean-only backend left it: same size and mtime, an 85-d mean
        core.store.save([Analysis(clip, st.st_size, st.st_mtime, emb.name, MEAN_ONLY_VERSION,
                                  vector=np.zeros(emb.dim, np.float32))])
        report = core.analyse([Track(clip)])
        assert report.analysed == 1 and report.cached == 0
        kept, mats = core.store.matrix([clip], emb.name, emb.version)
        _, windows = core.store.matrix([clip], emb.name, emb.version, windows=True)
        assert kept == [clip] and core.store.matrix([clip], emb.name, MEAN_ONLY_VERSION)[0] == []
        vector, w = mats[0], windows[0]
        assert vector.shape == (emb.vector_dim,) == (2 * emb.dim,) and w.shape[1] == emb.dim
        np.testing.assert_allclose(vector, pool(w, "mean_std"), rtol=1e-5, atol=1e-6)
        assert np.any(vector[emb.dim:] > 0)  # real windows differ: the spread is not all zero
        assert core.analyse([Track(clip)]).cached == 1  # the new version is kept
    finally:
        core.close()


def test_a_chunk_level_run_of_a_pooled_backend_is_judged_in_its_windows_space(tmp_path, emotify):
    clips = [str(p) for p in pick_clips(per_genre=2)]
    settings = Settings(workers=1, store_path=tmp_path / "cluster.db", aggregate="chunk_level",
                        n_clusters=2, playlist_dir=tmp_path / "pl", write_tags=False)
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
