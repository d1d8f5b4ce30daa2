"""The `vae` method: a seeded VAE trained on the library's vectors, then KMeans on its codes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import emotify_labels, pick_clips
from sklearn.metrics import normalized_mutual_info_score

from beetsplug.cluster.clustering.fit import fit
from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def clip_vectors(tmp_path_factory, emotify) -> tuple[np.ndarray, np.ndarray]:
    """Hand-crafted vectors of 10 real clips per genre, through the core, and their genres."""
    tmp = tmp_path_factory.mktemp("vae")
    clips = [str(p) for p in pick_clips(per_genre=10)]
    core = Library(Settings(workers=1, store=tmp / "cluster.db", playlist_dir=tmp / "pl",
                            write_tags=False))
    try:
        core.analyse([Track(p) for p in clips])
        kept, X = core.store.vector_matrix(clips, core.embedder.name, core.embedder.version)
    finally:
        core.close()
    genres = {str(p): g for p, g in emotify_labels().items()}
    return np.asarray(X, np.float64), np.array([genres[p] for p in kept])


def test_vae_is_deterministic_for_a_seed(clip_vectors):
    X, _ = clip_vectors
    a = fit(X, 4, method="vae", seed=3).labels
    b = fit(X, 4, method="vae", seed=3).labels
    assert np.array_equal(a, b)
    assert len(set(a)) == 4


def test_vae_clusters_beat_chance_on_real_clips(clip_vectors):
    X, y = clip_vectors
    labels = fit(X, 4, method="vae", seed=0).labels
    nmi = normalized_mutual_info_score(y, labels)
    # chance: the same cluster sizes dealt to the clips at random, 200 times (seeded)
    rng = np.random.default_rng(0)
    chance = [normalized_mutual_info_score(y, rng.permutation(labels)) for _ in range(200)]
    assert nmi > np.quantile(chance, 0.99), (nmi, np.quantile(chance, 0.99))
