from __future__ import annotations

import math

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

from beetsplug.cluster.clustering.identity import (
    assignment_ari,
    match_clusters,
    pair_clusters,
    relabel,
)


def _library(n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    # A library-like set: 6 overlapping groups in 24 dimensions, uneven sizes.
    X, _ = make_blobs(
        n_samples=[n // 3, n // 5, n // 6, n // 8, n // 8, n // 10],
        n_features=24,
        cluster_std=[5.0, 6.25, 3.75, 7.5, 5.0, 6.25],
        center_box=(-6, 6),
        random_state=seed,
    )
    return X, [f"track{i:05d}" for i in range(X.shape[0])]


def _cluster(X: np.ndarray, keys: list[str], seed: int) -> tuple[dict[str, int], dict]:
    Xs = StandardScaler().fit_transform(X)
    km = KMeans(n_clusters=6, n_init=10, random_state=seed).fit(Xs)
    assignment = {k: int(c) for k, c in zip(keys, km.labels_)}
    return assignment, dict(enumerate(km.cluster_centers_))


def test_adding_five_percent_keeps_every_cluster_number():
    X, keys = _library(1200, seed=11)
    rng = np.random.default_rng(0)
    order = rng.permutation(X.shape[0])
    n_old = round(X.shape[0] / 1.05)
    old_idx, new_idx = order[:n_old], order
    old, old_c = _cluster(X[old_idx], [keys[i] for i in old_idx], seed=1)
    # Another seed: KMeans numbers the clusters differently even where it finds the same ones.
    new, new_c = _cluster(X[new_idx], [keys[i] for i in new_idx], seed=7)
    assert len(new) - len(old) >= 0.045 * len(old)
    ari = assignment_ari(old, new)
    assert 0.9 < ari < 1.0  # high, yet a few tracks did change cluster
    mapping = match_clusters(old, new, old_c, new_c, start=0)  # KMeans labels: 0..5
    assert any(a != b for a, b in mapping.items())  # the raw numbers did move
    assert match_clusters(old, new, start=0) == mapping  # overlap alone decides here
    renamed = relabel(new, mapping)
    # Every old cluster's tracks now mostly sit under the same number.
    for c in set(old.values()):
        members = [k for k, v in old.items() if v == c]
        kept = sum(renamed[k] == c for k in members) / len(members)
        assert kept > 0.8, (c, kept)
    assert sorted(set(renamed.values())) == sorted(set(old.values()))


def test_a_permuted_relabelling_is_undone_exactly():
    X, keys = _library(600, seed=12)
    old, _ = _cluster(X, keys, seed=2)
    perm = {0: 4, 1: 0, 2: 5, 3: 1, 4: 3, 5: 2}
    new = {k: perm[v] for k, v in old.items()}
    mapping = match_clusters(old, new, start=0)
    assert relabel(new, mapping) == old
    assert assignment_ari(old, new) == 1.0


def test_clusters_take_the_free_numbers_and_noise_stays_noise():
    old = {"a": 3, "b": 3, "c": 7, "d": 7}
    new = {"a": 0, "b": 0, "c": 1, "d": 1, "e": 2, "f": -1}
    assert pair_clusters(old, new) == {0: 3, 1: 7}
    # Numbers are 1..k: 0 keeps 3; 7 no longer fits k=3, so 1 and the new 2 take 1 and 2.
    assert match_clusters(old, new) == {0: 3, 1: 1, 2: 2, -1: -1}


def test_centroids_decide_where_no_track_is_shared():
    old = {"a": 0, "b": 1}
    new = {"x": 0, "y": 1}  # no key in common: a whole new set of tracks
    old_c = {0: np.array([0.0, 0.0]), 1: np.array([10.0, 0.0])}
    new_c = {0: np.array([9.0, 1.0]), 1: np.array([1.0, -1.0])}
    assert match_clusters(old, new, old_c, new_c, start=0) == {0: 1, 1: 0}
    assert pair_clusters(old, new) == {}  # without centroids, no shared track: no match
    assert match_clusters(old, new, start=0) == {0: 0, 1: 1}  # just the free numbers
    assert math.isnan(assignment_ari(old, new))


def test_centroids_break_a_tie_in_overlap():
    old = {"a": 0, "b": 1}
    new = {"a": 5, "b": 5, "c": 6}
    old_c = {0: np.array([0.0]), 1: np.array([4.0])}
    new_c = {5: np.array([3.5]), 6: np.array([-1.0])}
    # 5 shares one track with each old cluster; it sits near old 1, and 6 near old 0.
    assert match_clusters(old, new, old_c, new_c, start=0) == {5: 1, 6: 0}


def test_numbers_are_always_one_to_k_and_matched_clusters_keep_theirs():
    X, keys = _library(900, seed=13)
    Xs = StandardScaler().fit_transform(X)
    previous: dict[str, int] = {}
    # k=6 first, then fewer (as -n auto chose 4), then 3, 8 and 3 again
    for k in (6, 4, 3, 8, 3):
        km = KMeans(n_clusters=k, n_init=4, random_state=k).fit(Xs)
        new = {key: int(c) for key, c in zip(keys, km.labels_)}
        mapping = match_clusters(previous, new)
        assert sorted(mapping.values()) == list(range(1, k + 1)), (k, mapping)
        for label, old in pair_clusters(previous, new).items():
            if old <= k:  # a cluster that continues an old one keeps its number where it fits
                assert mapping[label] == old, (k, label, old)
        previous = relabel(new, mapping)
