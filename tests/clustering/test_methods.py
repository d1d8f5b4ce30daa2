from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from beetsplug.cluster.clustering import methods
from beetsplug.cluster.clustering.kmeans import kmeans
from beetsplug.cluster.clustering.methods import dbscan_eps, fit_labels
from beetsplug.cluster.config import METHODS
from beetsplug.cluster.errors import ClusterError, MethodError


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=240, centers=3, n_features=6, cluster_std=1.0, random_state=8)
    return X, y


@pytest.mark.parametrize("method", ["kmeans", "agglomerative", "gmm", "dbscan", "hdbscan"])
def test_methods_recover_separated_blobs(blobs, method):
    X, y = blobs
    labels, centers = fit_labels(method, X, 3, seed=0)
    keep = labels != -1
    assert keep.mean() > 0.9  # density methods may call a few edge tracks noise
    assert adjusted_rand_score(y[keep], labels[keep]) > 0.95
    assert sorted(set(labels[keep])) == list(range(centers.shape[0]))
    assert centers.shape == (3, X.shape[1])
    for c in range(3):
        assert np.linalg.norm(centers[c] - X[labels == c].mean(axis=0)) < 0.5


def test_density_methods_mark_outliers_as_noise(blobs):
    X, _ = blobs
    outliers = np.random.default_rng(0).uniform(-60, 60, size=(6, X.shape[1]))
    Xo = np.vstack([X, outliers])
    for method in ("dbscan", "hdbscan"):
        labels, _ = fit_labels(method, Xo, 3)
        assert (labels[-6:] == -1).all(), method
        assert (labels[:-6] == -1).mean() < 0.1, method


def test_dbscan_eps_from_the_knee_is_between_inner_and_outer_distances(blobs):
    X, y = blobs
    eps = dbscan_eps(X, 12)
    within = np.linalg.norm(X[y == 0][:, None] - X[y == 0][None], axis=2).mean()
    between = np.linalg.norm(X[y == 0][:, None] - X[y == 1][None], axis=2).min()
    assert 0 < eps < between
    assert eps < within * 2


def test_gmm_and_kmeans_are_seeded(blobs):
    X, _ = blobs
    for method in ("kmeans", "gmm"):
        a, ca = fit_labels(method, X, 4, seed=3)
        b, cb = fit_labels(method, X, 4, seed=3)
        assert (a == b).all() and np.allclose(ca, cb)


def test_ward_on_a_sample_above_its_limit(blobs, monkeypatch):
    X, y = blobs
    monkeypatch.setattr(methods, "WARD_MAX", 60)
    labels, centers = fit_labels("agglomerative", X, 3, seed=1)
    assert adjusted_rand_score(y, labels) > 0.95 and centers.shape == (3, 6)


def test_unknown_method_and_impossible_k(blobs):
    X, _ = blobs
    with pytest.raises(MethodError, match="unknown clustering method 'spectral'"):
        fit_labels("spectral", X, 3)
    with pytest.raises(MethodError, match="k=500"):
        fit_labels("kmeans", X, 500)


def test_autoencoder_is_deterministic_and_finds_the_blobs(blobs):
    pytest.importorskip("torch")
    X, y = blobs
    a, ca = fit_labels("autoencoder", X, 3, seed=0)
    b, cb = fit_labels("autoencoder", X, 3, seed=0)
    assert (a == b).all() and np.array_equal(ca, cb)
    assert adjusted_rand_score(y, a) > 0.95
    assert ca.shape == (3, X.shape[1])  # centres are in X's space, not the code space


def test_autoencoder_without_torch_says_how_to_get_it(blobs, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # what Python does when torch is absent
    with pytest.raises(MethodError, match=r"pip install 'beets-cluster\[deep\]'"):
        fit_labels("autoencoder", blobs[0], 3)


def test_the_settings_offer_exactly_the_registered_methods():
    assert METHODS == methods.METHODS == tuple(methods.REGISTRY)


def test_kmeans_is_the_one_kmeans_with_the_minibatch_rule(blobs):
    X, _ = blobs
    for threshold in (10, 10_000):
        labels, centers = fit_labels("kmeans", X, 4, seed=3, minibatch_threshold=threshold)
        direct = kmeans(X, 4, seed=3, minibatch_threshold=threshold)
        assert (labels == direct.labels).all() and np.array_equal(centers, direct.centroids)


@pytest.mark.slow
def test_autoencoder_clusters_its_codes_with_the_same_minibatch_rule():
    pytest.importorskip("torch")
    from beetsplug.cluster.clustering.autoencoder import encode

    # Shapeless data, so that MiniBatchKMeans and KMeans split the codes differently.
    X = np.random.default_rng(2).standard_normal((60, 6))
    codes = encode(X, seed=0)
    mini = kmeans(codes, 3, seed=0, minibatch_threshold=10).labels
    assert adjusted_rand_score(mini, kmeans(codes, 3, seed=0, minibatch_threshold=100).labels) < 1
    labels, _ = fit_labels("autoencoder", X, 3, seed=0, minibatch_threshold=10)
    assert adjusted_rand_score(mini, labels) == 1.0  # the same partition, renumbered


def test_method_errors_are_the_cores_errors():
    assert issubclass(MethodError, ClusterError) and issubclass(MethodError, ValueError)
