"""Every clustering method behind one call, fit_labels(method, X, k, seed), and one registry.

A method is one entry of REGISTRY (name -> function), as beets' replaygain maps backend names to
classes: adding one is a function and a line, and config.METHODS is checked against the keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from ..errors import MethodError
from . import NOISE
from .choose_k import knee_index
from .kmeans import MINIBATCH_THRESHOLD, kmeans

# Ward needs all pairwise distances (n^2/2 floats): above this it runs on a seeded sample.
WARD_MAX = 8000
# A warm start from the previous run's centroids is kept when its inertia is at most this much
# worse than a fresh search's: a little fit traded for playlists that keep their tracks.
STABILITY_SLACK = 0.02

@dataclass(frozen=True)
class MethodOptions:
    """What a method may use besides X and k; each one reads only what it needs."""

    seed: int = 0
    minibatch_threshold: int = MINIBATCH_THRESHOLD
    start: np.ndarray | None = None  # previous run's centroids in X's space (kmeans' warm start)
    eps: float | None = None
    min_samples: int | None = None


def cluster_means(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean vector of each cluster 0..m-1 (noise left out); row i belongs to label i."""
    m = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    return np.stack([X[labels == c].mean(axis=0) for c in range(m)]) if m else X[:0].copy()


def _compact(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..m-1 in order of first appearance, keeping noise at -1.

    GMM components can end up empty; playlists should not have gaps in their numbers.
    """
    out = np.full(labels.shape, NOISE, dtype=np.int64)
    seen: dict[int, int] = {}
    for i, c in enumerate(labels.tolist()):
        if c != NOISE:
            out[i] = seen.setdefault(c, len(seen))
    return out


def dbscan_min_samples(n: int, dim: int) -> int:
    """2 x dim (Sander et al. 1998), at least 4, at most 5 % of the library."""
    return int(max(4, min(2 * dim, n // 20)))


def dbscan_eps(X: np.ndarray, min_samples: int) -> float:
    """eps at the knee of the sorted k-distance curve (Ester et al. 1996's heuristic).

    The k-th neighbour counts the point itself, as DBSCAN's min_samples does.
    """
    k = min(min_samples, X.shape[0])
    dist, _ = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)
    curve = np.sort(dist[:, -1])
    i = knee_index(curve)
    eps = float(curve[i] if i is not None else np.median(curve))
    return eps if eps > 0 else float(curve[curve > 0].min(initial=1e-9))


def _agglomerative(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    if X.shape[0] <= WARD_MAX:
        return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(X.shape[0], size=WARD_MAX, replace=False))
    sample_labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X[idx])
    centers = cluster_means(X[idx], sample_labels)
    # The rest joins the nearest cluster mean, as Ward would place a single track.
    nn = NearestNeighbors(n_neighbors=1).fit(centers)
    return nn.kneighbors(X, return_distance=False)[:, 0]


def _kmeans(X: np.ndarray, k: int, o: MethodOptions) -> tuple[np.ndarray, np.ndarray | None]:
    fresh = kmeans(X, k, seed=o.seed, minibatch_threshold=o.minibatch_threshold)
    if o.start is None or len(o.start) != k:
        return fresh.labels, fresh.centroids
    warm = kmeans(X, k, seed=o.seed, minibatch_threshold=o.minibatch_threshold, init=o.start)
    best = warm if warm.inertia <= fresh.inertia * (1 + STABILITY_SLACK) else fresh
    return best.labels, best.centroids


def _ward(X: np.ndarray, k: int, o: MethodOptions) -> tuple[np.ndarray, np.ndarray | None]:
    return _agglomerative(X, k, o.seed), None


def _gmm(X: np.ndarray, k: int, o: MethodOptions) -> tuple[np.ndarray, np.ndarray | None]:
    gmm = GaussianMixture(k, covariance_type="diag", n_init=3, random_state=o.seed).fit(X)
    raw = gmm.predict(X)
    labels = _compact(raw)
    order = [int(raw[labels == c][0]) for c in range(int(labels.max()) + 1)]
    return labels, gmm.means_[order]


def _dbscan(X: np.ndarray, k: int, o: MethodOptions) -> tuple[np.ndarray, np.ndarray | None]:
    ms = o.min_samples or dbscan_min_samples(X.shape[0], X.shape[1])
    return DBSCAN(eps=o.eps or dbscan_eps(X, ms), min_samples=ms).fit_predict(X), None


def _hdbscan(X: np.ndarray, k: int, o: MethodOptions) -> tuple[np.ndarray, np.ndarray | None]:
    size = max(5, X.shape[0] // (4 * max(k, 1)))
    hdb = HDBSCAN(min_cluster_size=size, min_samples=o.min_samples, copy=True)
    return hdb.fit_predict(X), None


def _autoencoder(X: np.ndarray, k: int, o: MethodOptions) -> tuple[np.ndarray, np.ndarray | None]:
    from .autoencoder import encode  # torch is optional; import only when asked for

    codes = encode(X, seed=o.seed)
    return kmeans(codes, k, seed=o.seed, minibatch_threshold=o.minibatch_threshold).labels, None


def _vae(X: np.ndarray, k: int, o: MethodOptions) -> tuple[np.ndarray, np.ndarray | None]:
    from .vae import encode  # torch is optional; import only when asked for

    codes = encode(X, seed=o.seed)
    return kmeans(codes, k, seed=o.seed, minibatch_threshold=o.minibatch_threshold).labels, None


@dataclass(frozen=True)
class Method:
    fit: Callable[[np.ndarray, int, MethodOptions], tuple[np.ndarray, np.ndarray | None]]
    takes_k: bool  # k is the number of clusters; the density methods find their own


REGISTRY: dict[str, Method] = {
    "kmeans": Method(_kmeans, takes_k=True),
    "agglomerative": Method(_ward, takes_k=True),
    "gmm": Method(_gmm, takes_k=True),
    "dbscan": Method(_dbscan, takes_k=False),
    "hdbscan": Method(_hdbscan, takes_k=False),
    "autoencoder": Method(_autoencoder, takes_k=True),
    "vae": Method(_vae, takes_k=True),
}
METHODS = tuple(REGISTRY)


def fit_labels(
    method: str,
    X: np.ndarray,
    k: int,
    seed: int = 0,
    *,
    minibatch_threshold: int = MINIBATCH_THRESHOLD,
    start: np.ndarray | None = None,
    eps: float | None = None,
    min_samples: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the (already scaled) vectors X; return (labels, centers).

    labels: one int per row, clusters numbered 0..m-1, -1 for noise (DBSCAN/HDBSCAN only:
    those tracks belong to no playlist and the caller reports them). centers: (m, dim), row i
    the centre of cluster i in the space of X (the model's own centres for KMeans and GMM,
    else the mean of the cluster's rows). `k` is the number of clusters for kmeans,
    agglomerative (Ward), gmm (diagonal covariances: full ones are singular on a few hundred
    tracks of 200-512 dims), autoencoder and vae; the density methods find their own number, and
    HDBSCAN uses k only to size its smallest cluster (a quarter of an average playlist).
    kmeans (and the autoencoder's and the VAE's KMeans on their codes) switch to
    MiniBatchKMeans above `minibatch_threshold` rows; given `start` (the previous run's k
    centroids) kmeans keeps a warm start from them when it fits within STABILITY_SLACK of a
    fresh search.
    DBSCAN takes `eps` and `min_samples`; missing ones come from `dbscan_eps` and
    `dbscan_min_samples`.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise MethodError(f"need a non-empty 2-D matrix, got shape {X.shape}")
    entry = REGISTRY.get(method)
    if entry is None:
        raise MethodError(f"unknown clustering method {method!r}; choose one of {METHODS}")
    n = X.shape[0]
    if entry.takes_k and not 1 <= k <= n:
        raise MethodError(f"k={k} is not possible with {n} tracks")
    options = MethodOptions(seed, minibatch_threshold, start, eps, min_samples)
    labels, centers = entry.fit(X, k, options)
    if centers is None:
        labels = _compact(np.asarray(labels))
        return labels, cluster_means(X, labels)
    return np.asarray(labels, np.int64), np.asarray(centers)
