"""Stable cluster identities: after a recluster, each new cluster takes the old number it overlaps.

KMeans numbers its clusters arbitrarily, so without this "Cluster 3" would be a different
playlist after every run. Keys are whatever names a track across runs (a path, a beets id).
"""

from __future__ import annotations

from collections.abc import Container, Hashable, Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from . import NOISE


def _labels(assignment: Mapping[Hashable, int]) -> list[int]:
    return sorted({int(v) for v in assignment.values() if int(v) != NOISE})


def _centroid_similarity(
    new: list[int],
    old: list[int],
    new_centroids: Mapping[int, np.ndarray],
    old_centroids: Mapping[int, np.ndarray],
) -> np.ndarray:
    """Similarity in [0, 1) from centroid distance: 1 for the same point, towards 0 far away."""
    a = np.stack([np.asarray(new_centroids[c], dtype=np.float64) for c in new])
    b = np.stack([np.asarray(old_centroids[c], dtype=np.float64) for c in old])
    dist = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    scale = dist.max() if dist.max() > 0 else 1.0
    # Strictly below 1 so that it can never outweigh one shared track.
    return 0.999 * (1.0 - dist / scale)


def pair_clusters(
    old_assignment: Mapping[Hashable, int],
    new_assignment: Mapping[Hashable, int],
    old_centroids: Mapping[int, np.ndarray] | None = None,
    new_centroids: Mapping[int, np.ndarray] | None = None,
    *,
    allowed: Container[int] | None = None,
) -> dict[int, int]:
    """new label -> the old label it continues, for the new clusters that continue one.

    One Hungarian assignment (scipy's linear_sum_assignment) maximises the number of shared
    tracks kept under the same number. Centroid distance (when both runs' centroids are given,
    as {label: vector} in the same space) breaks ties between equal overlaps and stands in
    where two clusters share no track; it is scaled to stay below one shared track, so it
    never overrides real overlap. Without centroids, a pair that shares no track is never
    paired. Only old labels in `allowed` (all when None) can be continued. Noise is never
    paired.
    """
    new = _labels(new_assignment)
    old = [c for c in _labels(old_assignment) if allowed is None or c in allowed]
    if not new or not old:
        return {}
    row = {c: i for i, c in enumerate(new)}
    col = {c: j for j, c in enumerate(old)}
    score = np.zeros((len(new), len(old)))
    for key, n_label in new_assignment.items():
        o_label = old_assignment.get(key)
        if o_label is None or int(n_label) == NOISE or int(o_label) not in col:
            continue
        score[row[int(n_label)], col[int(o_label)]] += 1.0
    if old_centroids is not None and new_centroids is not None:
        score += _centroid_similarity(new, old, new_centroids, old_centroids)
    rows, cols = linear_sum_assignment(score, maximize=True)
    return {new[i]: old[j] for i, j in zip(rows, cols) if score[i, j] > 0}


def match_clusters(
    old_assignment: Mapping[Hashable, int],
    new_assignment: Mapping[Hashable, int],
    old_centroids: Mapping[int, np.ndarray] | None = None,
    new_centroids: Mapping[int, np.ndarray] | None = None,
    *,
    start: int = 1,
) -> dict[int, int]:
    """Map every new cluster label to its number: always exactly start .. start+k-1.

    A new cluster that continues an old one (`pair_clusters`) keeps the old number wherever it
    still fits in that range; the others take the free numbers in order, so fewer clusters
    than before leave no gaps and more clusters add numbers right after the old ones. Noise
    (-1) maps to -1.
    """
    new = _labels(new_assignment)
    numbers = range(start, start + len(new))
    mapping = pair_clusters(old_assignment, new_assignment, old_centroids, new_centroids,
                            allowed=numbers)
    used = set(mapping.values())
    free = iter(n for n in numbers if n not in used)
    for c in new:
        if c not in mapping:
            mapping[c] = next(free)
    if any(int(v) == NOISE for v in new_assignment.values()):
        mapping[NOISE] = NOISE
    return mapping


def relabel(assignment: Mapping[Hashable, int], mapping: Mapping[int, int]) -> dict[Hashable, int]:
    """Apply a `match_clusters` mapping to a {key: label} assignment."""
    return {key: mapping[int(label)] for key, label in assignment.items()}


def assignment_ari(old: Mapping[Hashable, int], new: Mapping[Hashable, int]) -> float:
    """Adjusted Rand index between two runs over the tracks both runs assigned.

    1.0 means the shared tracks are grouped exactly as before (whatever the numbers); noise
    counts as a group of its own. NaN when fewer than two tracks are shared.
    """
    shared = [key for key in new if key in old]
    if len(shared) < 2:
        return float("nan")
    return float(adjusted_rand_score([old[k] for k in shared], [new[k] for k in shared]))
