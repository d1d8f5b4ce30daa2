from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import make_blobs

from beetsplug.cluster.clustering.quality import (
    external_measures,
    format_table,
    internal_measures,
    purity,
)

# A fixed toy set: 3 genres, 3 clusters that mostly but not wholly agree.
TRUE = ["rock"] * 5 + ["pop"] * 4 + ["jazz"] * 3
PRED = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 0]


def test_external_measures_match_scikit_learn():
    m = external_measures(TRUE, PRED)
    assert m["ari"] == pytest.approx(metrics.adjusted_rand_score(TRUE, PRED))
    assert m["nmi"] == pytest.approx(metrics.normalized_mutual_info_score(TRUE, PRED))
    assert m["v_measure"] == pytest.approx(metrics.v_measure_score(TRUE, PRED))
    assert m["homogeneity"] == pytest.approx(metrics.homogeneity_score(TRUE, PRED))
    assert m["completeness"] == pytest.approx(metrics.completeness_score(TRUE, PRED))
    assert m["n"] == 12 and m["unlabelled"] == 0 and m["noise"] == 0


def test_purity_by_hand():
    # cluster 0: rock x4 + jazz x1 -> 4; cluster 1: rock x1 + pop x3 -> 3;
    # cluster 2: pop x1 + jazz x2 -> 2; (4 + 3 + 2) / 12
    assert purity(TRUE, PRED) == pytest.approx(9 / 12)
    assert external_measures(TRUE, PRED)["purity"] == pytest.approx(0.75)


def test_unlabelled_and_noise_are_left_out_and_counted():
    true = [*TRUE, None, "", "rock"]
    pred = [*PRED, 1, 2, -1]
    m = external_measures(true, pred)
    assert (m["n"], m["unlabelled"], m["noise"]) == (12, 2, 1)
    assert m["ari"] == pytest.approx(metrics.adjusted_rand_score(TRUE, PRED))


def test_internal_measures_match_scikit_learn_and_skip_noise():
    X, y = make_blobs(n_samples=60, centers=3, n_features=4, random_state=1)
    m = internal_measures(X, y)
    assert m["silhouette"] == pytest.approx(metrics.silhouette_score(X, y))
    assert m["calinski_harabasz"] == pytest.approx(metrics.calinski_harabasz_score(X, y))
    assert m["davies_bouldin"] == pytest.approx(metrics.davies_bouldin_score(X, y))
    noisy = y.copy()
    noisy[:5] = -1
    m2 = internal_measures(X, noisy)
    assert m2["noise"] == 5 and m2["n"] == 55
    assert m2["silhouette"] == pytest.approx(metrics.silhouette_score(X[5:], y[5:]))


def test_silhouette_is_sampled_and_seeded_for_big_sets():
    X, y = make_blobs(n_samples=400, centers=4, n_features=3, random_state=2)
    a = internal_measures(X, y, sample_size=100, seed=7)["silhouette"]
    b = internal_measures(X, y, sample_size=100, seed=7)["silhouette"]
    assert a == b
    full = metrics.silhouette_score(X, y)
    assert a == pytest.approx(full, abs=0.1) and a != full


def test_one_cluster_gives_nan_not_an_error():
    m = internal_measures(np.zeros((4, 2)), [0, 0, 0, -1])
    assert math.isnan(m["silhouette"]) and m["clusters"] == 1


def test_format_table_has_one_column_per_run():
    runs = {"k=3": external_measures(TRUE, PRED), "auto (k=2)": {"nmi": 0.5, "clusters": 2}}
    text = format_table(runs)
    lines = text.splitlines()
    assert lines[0].split() == ["measure", "k=3", "auto", "(k=2)"]
    nmi = next(line for line in lines if line.startswith("nmi"))
    assert nmi.split()[1:] == [f"{external_measures(TRUE, PRED)['nmi']:.3f}", "0.500"]
    purity_line = next(line for line in lines if line.startswith("purity"))
    assert purity_line.split()[1:] == ["0.750", "-"]
