"""The core's one KMeans: fit, the k scan and the autoencoder's codes all cluster through it,
so they agree on when MiniBatchKMeans takes over and on how many restarts each gets."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans

from ..config import Settings

# Full KMeans costs ~50 s on 50k x 512 (measured), MiniBatchKMeans ~0.2 s. The default is the
# settings' own, so a caller that passes nothing still follows the configured rule.
MINIBATCH_THRESHOLD: int = Settings.minibatch_threshold
# On real libraries more restarts barely move the inertia but cost linearly.
N_INIT = 4
MINIBATCH_N_INIT = 3
BATCH_SIZE = 4096


class KMeansResult(NamedTuple):
    labels: np.ndarray  # (n,) 0..k-1
    centroids: np.ndarray  # (k, dim)
    inertia: float  # sum of squared distances to the own centroid, over all rows


def uses_minibatch(n: int, minibatch_threshold: int) -> bool:
    """The one rule: MiniBatchKMeans for more than `minibatch_threshold` rows."""
    return n > minibatch_threshold


def kmeans(X: np.ndarray, k: int, *, seed: int, minibatch_threshold: int = MINIBATCH_THRESHOLD,
           init: np.ndarray | None = None) -> KMeansResult:
    """Cluster the rows of X into k groups.

    `init` (k, dim) starts from given centroids (a warm start from the previous run) instead of
    k-means++; one start is then all there is to run.
    """
    start = "k-means++" if init is None else init
    if uses_minibatch(len(X), minibatch_threshold):
        est = MiniBatchKMeans(n_clusters=k, init=start, random_state=seed, batch_size=BATCH_SIZE,
                              n_init=MINIBATCH_N_INIT if init is None else 1)
    else:
        est = KMeans(n_clusters=k, init=start, random_state=seed,
                     n_init=N_INIT if init is None else 1)
    est.fit(X)
    return KMeansResult(np.asarray(est.labels_, dtype=np.int64), est.cluster_centers_,
                        float(est.inertia_))
