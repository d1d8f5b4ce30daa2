from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from beetsplug.cluster.analysis.audio import cut_windows, window_cap
from beetsplug.cluster.clustering import fit as clustering
from beetsplug.cluster.clustering.choose_k import scan_k
from beetsplug.cluster.clustering.kmeans import kmeans
from beetsplug.cluster.errors import ClusterError


def blobs(n=300, seed=0):
    X, y = make_blobs(n_samples=n, centers=3, n_features=12, cluster_std=1.0, random_state=seed)
    return X.astype(np.float32), y


def test_fit_is_deterministic_and_numbered_by_size():
    X, _ = blobs()
    X = np.concatenate([X, X[:60]])  # make the first blob's cluster the biggest
    a, b = clustering.fit(X, 3), clustering.fit(X, 3)
    np.testing.assert_array_equal(a.labels, b.labels)
    sizes = np.bincount(a.labels)
    assert list(sizes) == sorted(sizes, reverse=True)


def test_model_places_vectors_like_the_fit():
    X, y = blobs()
    result = clustering.fit(X, 3)
    restored = clustering.Model.from_bytes(result.model.to_bytes())
    labels, dist = restored.assign(X)
    np.testing.assert_array_equal(labels, result.labels + 1)  # numbers start at 1
    np.testing.assert_allclose(dist, result.distances, rtol=1e-6, atol=1e-9)
    # and the clusters are the blobs
    assert len({(a, b) for a, b in zip(labels, y)}) == 3


def test_the_clustering_space_has_no_unit_rows_and_models_with_them_keep_theirs():
    """Issue 20's rule took unit rows off (not significant on all three dev sets); models
    recorded with them (issue 19's runs) and before them still project as they did."""
    import io

    X, _ = blobs()
    result = clustering.fit(X, 3)
    P = result.model.transform(X)
    raw = clustering.reduce(X).P
    np.testing.assert_allclose(np.abs(P), np.abs(raw), atol=1e-9)
    assert not np.allclose(np.linalg.norm(P, axis=1), 1.0)
    assert not clustering.Model.from_bytes(result.model.to_bytes()).unit
    # a model recorded with unit rows keeps them
    on = clustering.fit(X, 3, reduced=clustering.reduce(X, unit_rows=True))
    restored = clustering.Model.from_bytes(on.model.to_bytes())
    assert restored.unit
    np.testing.assert_allclose(np.linalg.norm(restored.transform(X), axis=1), 1.0, atol=1e-9)
    # a model recorded before unit rows existed (no "unit" in its bytes) projects without them
    buf = io.BytesIO()
    m = on.model
    np.savez(buf, mean=m.mean, scale=m.scale, components=m.components, pca_mean=m.pca_mean,
             centroids=m.centroids, numbers=m.numbers)
    old = clustering.Model.from_bytes(buf.getvalue())
    assert not old.unit
    np.testing.assert_allclose(np.abs(old.transform(X)), np.abs(raw), atol=1e-9)


def test_minibatch_above_threshold_and_too_few_tracks():
    X, _ = blobs(600)
    assert len(set(clustering.fit(X, 3, minibatch_threshold=100).labels)) == 3
    with pytest.raises(ClusterError, match="cannot make 5 clusters from 3"):
        clustering.fit(X[:3], 5)


def test_vote_takes_the_majority_of_windows():
    labels = np.array([0, 0, 1, 2, 2, 2, 1, 1])
    dist = np.array([1, 1, 5, 1, 1, 1, 2, 0.5])
    owners = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    tl, td = clustering.vote(labels, dist, owners, 3)
    assert tl.tolist() == [0, 2, 1]
    assert td.tolist() == [1.0, 1.0, 1.25]


def test_windows_padding_and_cap():
    sr = 100
    y = np.ones(sr * 12, dtype=np.float32)  # 12 s: two 5 s windows + 2 s left
    assert cut_windows(y, sr, 5.0, 0.5).shape == (2, 500)  # 2 s < half a window: dropped
    w = cut_windows(y, sr, 5.0, 0.4)
    assert w.shape == (3, 500) and w[2, :200].all() and not w[2, 200:].any()
    assert cut_windows(y[:300], sr, 5.0, 0.9).shape == (1, 500)  # a short track keeps one
    assert window_cap([60, 120, 240, 480], 5.0, 0.25) == 21  # 25 % quantile = 105 s
    assert window_cap([], 5.0, 0.25) == 36


def test_settings_refuse_bad_options_with_a_clear_line():
    from beetsplug.cluster.config import Settings

    for bad, words in [({"playlist_template": "{nmber}"}, "playlist_template"),
                       ({"method": "kmedoids"}, "method must be one of"),
                       ({"clusters": 0}, "clusters must be a whole number >= 1"),
                       ({"auto_range": (5, 3)}, "auto_range")]:
        with pytest.raises(ValueError, match=words):
            Settings(**bad).check()
    Settings().check()


def test_a_recluster_keeps_the_previous_split_when_it_fits_as_well():
    # Four blobs on a square: for k=2, splitting left|right and top|bottom fit equally well.
    rng = np.random.default_rng(0)
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=float)
    X = np.concatenate([c + 0.15 * rng.standard_normal((50, 2)) for c in corners])
    grown = np.concatenate([X, corners + 0.15 * rng.standard_normal((4, 2))])  # 2 % more
    r = clustering.reduce(X)

    def previous(raw_centroids):
        return clustering.Model(r.mean, r.scale, r.components, r.pca_mean,
                                r.project(np.array(raw_centroids, dtype=float)), np.array([1, 2]))

    left_right = clustering.fit(grown, 2, previous=previous([[-1, 0], [1, 0]])).labels
    top_bottom = clustering.fit(grown, 2, previous=previous([[0, -1], [0, 1]])).labels
    by_x = grown[:, 0] > 0
    by_y = grown[:, 1] > 0
    assert len(set(zip(left_right, by_x))) == 2  # the split follows x ...
    assert len(set(zip(top_bottom, by_y))) == 2  # ... or y, as the previous run had it


def test_fit_and_the_k_scan_follow_the_same_minibatch_threshold():
    # Shapeless data, so that MiniBatchKMeans and KMeans end at different inertias.
    X = np.random.default_rng(1).standard_normal((50, 6))
    P = clustering.reduce(X).P
    mini = kmeans(P, 3, seed=0, minibatch_threshold=10)
    full = kmeans(P, 3, seed=0, minibatch_threshold=1000)
    assert not np.isclose(mini.inertia, full.inertia)
    for threshold, expected in ((10, mini), (1000, full)):
        result = clustering.fit(X, 3, minibatch_threshold=threshold)
        assert np.isclose((result.distances ** 2).sum(), expected.inertia)
        np.testing.assert_allclose(np.sort(result.model.centroids, axis=0),
                                   np.sort(expected.centroids, axis=0))
        assert scan_k(P, [3], minibatch_threshold=threshold).inertia == (expected.inertia,)


def test_a_warm_start_above_the_threshold_keeps_the_previous_split_too():
    rng = np.random.default_rng(0)
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=float)
    X = np.concatenate([c + 0.15 * rng.standard_normal((50, 2)) for c in corners])
    r = clustering.reduce(X)
    for split, side in (([[-1, 0], [1, 0]], X[:, 0] > 0), ([[0, -1], [0, 1]], X[:, 1] > 0)):
        previous = clustering.Model(r.mean, r.scale, r.components, r.pca_mean,
                                    r.project(np.array(split, dtype=float)), np.array([1, 2]))
        labels = clustering.fit(X, 2, previous=previous, minibatch_threshold=10).labels
        assert len(set(zip(labels, side))) == 2
