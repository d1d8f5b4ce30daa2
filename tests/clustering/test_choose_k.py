from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from beetsplug.cluster.clustering.choose_k import knee_index, scan_k, useful_range


def test_auto_finds_three_well_separated_blobs():
    X, _ = make_blobs(n_samples=300, centers=3, n_features=8, cluster_std=1.0, random_state=3)
    scan = scan_k(X, seed=0)
    assert scan.best == 3
    assert scan.elbow == 3
    assert scan.ks == tuple(range(2, 13))
    assert max(scan.silhouette) == scan.silhouette[scan.ks.index(3)]
    assert list(scan.inertia) == sorted(scan.inertia, reverse=True)


def test_scan_is_seeded_and_samples_big_sets():
    X, _ = make_blobs(n_samples=600, centers=5, n_features=4, random_state=4)
    a = scan_k(X, range(3, 8), seed=1, sample=200)
    b = scan_k(X, range(3, 8), seed=1, sample=200)
    assert a == b
    assert a.sample_size == 200
    assert a.best == 5


def test_k_range_is_clipped_to_what_can_be_scored():
    X, _ = make_blobs(n_samples=6, centers=2, n_features=2, random_state=0)
    scan = scan_k(X, range(2, 13))
    assert scan.ks == (2, 3, 4, 5)
    with pytest.raises(ValueError, match="no k"):
        scan_k(X[:2], range(2, 5))


def test_knee_of_a_bent_curve_and_none_for_a_line():
    assert knee_index([100, 40, 12, 10, 9, 8, 7]) == 2
    assert knee_index(np.linspace(10, 0, 8)) is None


def test_render_marks_the_chosen_k():
    X, _ = make_blobs(n_samples=150, centers=3, n_features=4, random_state=5)
    scan = scan_k(X, range(2, 6))
    text = scan.render(width=20)
    chosen = [line for line in text.splitlines() if "<- chosen" in line]
    assert len(chosen) == 1 and chosen[0].split()[0] == str(scan.best)
    assert "#" * 20 in chosen[0]
    assert len(text.splitlines()) == 2 + len(scan.ks)


def test_useful_range_from_hours_and_tracks():
    ks = tuple(range(2, 13))
    assert useful_range(ks, 198, 15.3) == (6, 9)  # at most 3 h, at least 20 tracks each
    assert useful_range(ks, 200, None) == (2, 10)  # lengths unknown: the track bound alone
    assert useful_range(ks, 10, 0.5) == (2, 2)  # a tiny library: the smallest k
    assert useful_range(ks, 40, 60.0) == (12, 12)  # bounds cross: no playlist of 30 h
    assert useful_range(ks, 20_000, 1400.0) == (12, 12)  # more than the range allows


def test_diffuse_music_gets_playlists_of_a_useful_size_not_two():
    # issue 19: silhouette on diffuse data favours k = 2 (two playlists of 100 tracks from 12
    # games); one blob of 300 "tracks" of 4 minutes (20 h) must give playlists of <= 3 h
    X = np.random.default_rng(7).normal(size=(300, 8))
    scan = scan_k(X, range(2, 13), tracks=300, hours=20.0)
    assert scan.eligible == (7, 12)
    assert 7 <= scan.best <= 12
    assert scan.best_silhouette == 2  # what silhouette alone would have taken
    assert scan_k(X, range(2, 13)).eligible == (2, 12)  # lengths unknown, 300 tracks
    assert "useful k 7..12" in scan.render()
