"""Clustering methods beside KMeans, behind one call: fit_labels(method, X, k, seed)."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from .choose_k import knee_index
from .errors import ClusterError
from .text import plural

NOISE = -1
METHODS = ("kmeans", "agglomerative", "gmm", "dbscan", "hdbscan", "autoencoder")
# Ward needs all pairwise distances (n^2/2 floats): above this it runs on a seeded sample.
WARD_MAX = 8000


class MethodError(ClusterError, ValueError):
    """A method cannot run as asked (unknown name, missing extra); the message says why."""


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


def fit_labels(
    method: str,
    X: np.ndarray,
    k: int,
    seed: int = 0,
    *,
    eps: float | None = None,
    min_samples: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the (already scaled) vectors X; return (labels, centers).

    labels: one int per row, clusters numbered 0..m-1, -1 for noise (DBSCAN/HDBSCAN only:
    those tracks belong to no playlist and the caller reports them). centers: (m, dim), row i
    the centre of cluster i in the space of X (the model's own centres for KMeans and GMM,
    else the mean of the cluster's rows). `k` is the number of clusters for kmeans,
    agglomerative (Ward), gmm (diagonal covariances: full ones are singular on a few hundred
    tracks of 200-512 dims) and autoencoder; the density methods find their own number, and
    HDBSCAN uses k only to size its smallest cluster (a quarter of an average playlist).
    DBSCAN takes `eps` and `min_samples`; missing ones come from `dbscan_eps` and
    `dbscan_min_samples`.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise MethodError(f"need a non-empty 2-D matrix, got shape {X.shape}")
    n = X.shape[0]
    if method in ("kmeans", "agglomerative", "gmm", "autoencoder") and not 1 <= k <= n:
        raise MethodError(f"k={k} is not possible with {plural(n, 'track')}")
    centers: np.ndarray | None = None
    if method == "kmeans":
        model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X)
        labels, centers = model.labels_, model.cluster_centers_
    elif method == "agglomerative":
        labels = _agglomerative(X, k, seed)
    elif method == "gmm":
        gmm = GaussianMixture(k, covariance_type="diag", n_init=3, random_state=seed).fit(X)
        raw = gmm.predict(X)
        labels = _compact(raw)
        order = [int(raw[labels == c][0]) for c in range(int(labels.max()) + 1)]
        centers = gmm.means_[order]
    elif method == "dbscan":
        ms = min_samples or dbscan_min_samples(n, X.shape[1])
        labels = DBSCAN(eps=eps or dbscan_eps(X, ms), min_samples=ms).fit_predict(X)
    elif method == "hdbscan":
        size = max(5, n // (4 * max(k, 1)))
        labels = HDBSCAN(min_cluster_size=size, min_samples=min_samples, copy=True).fit_predict(X)
    elif method == "autoencoder":
        from .autoencoder import encode  # torch is optional; import only when asked for

        codes = encode(X, seed=seed)
        labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(codes)
    else:
        raise MethodError(f"unknown clustering method {method!r}; choose one of {METHODS}")
    labels = _compact(np.asarray(labels)) if centers is None else np.asarray(labels, np.int64)
    return labels, cluster_means(X, labels) if centers is None else np.asarray(centers)
