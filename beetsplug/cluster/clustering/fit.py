"""Pure functions: scale, reduce, cluster; a small model that assigns new vectors later.

The clustering space: standardise, then PCA (`beet similar` ranks by the cosine there). Rows
scaled to unit length (KMeans on the sphere) raised NMI on some dev sets, but not significantly
on all three, so they are off (README "Cluster quality"); runs recorded with them keep them.

Determinism: the same vectors in the same order with the same options give the same labels,
and labels are numbered by cluster size (largest first) so the numbering does not depend on
KMeans' internal initialisation order.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

from .. import neighbours
from ..errors import ClusterError
from ..text import plural
from . import methods
from .kmeans import MINIBATCH_THRESHOLD


@dataclass(frozen=True)
class Model:
    """What it takes to place a new vector: standardise, project, nearest centroid."""

    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray  # (n_components, dim)
    pca_mean: np.ndarray
    centroids: np.ndarray  # (k, n_components)
    numbers: np.ndarray  # (k,) the cluster number of each centroid row
    unit: bool = False  # projected rows scaled to unit length (runs of issue 19's defaults)

    def transform(self, X: np.ndarray) -> np.ndarray:
        return _project(X, self.mean, self.scale, self.pca_mean, self.components, self.unit)

    def raw_centroids(self) -> np.ndarray:
        """The centroids back in the space of the raw vectors (to compare two runs' models)."""
        return (self.centroids @ self.components + self.pca_mean) * self.scale + self.mean

    def assign(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest centroid's cluster number and the distance to it, per row of X (raw vectors)."""
        d = _distances(self.transform(X), self.centroids)
        rows = d.argmin(axis=1)
        return self.numbers[rows], d[np.arange(len(rows)), rows]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, mean=self.mean, scale=self.scale, components=self.components,
                 pca_mean=self.pca_mean, centroids=self.centroids, numbers=self.numbers,
                 unit=np.array(self.unit))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        with np.load(io.BytesIO(data)) as z:
            fields = {name: z[name] for name in z.files}
        fields["unit"] = bool(fields.get("unit", False))  # not in models recorded before
        return cls(**fields)


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray  # (n,) cluster 0..k-1 per row
    distances: np.ndarray  # (n,) distance to the own centroid, in the reduced space
    model: Model


@dataclass(frozen=True)
class Reduced:
    """Vectors standardised and projected by PCA, with what it takes to do the same again."""

    P: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    pca_mean: np.ndarray
    unit: bool = False

    def project(self, X: np.ndarray) -> np.ndarray:
        """Raw vectors into this reduced space."""
        return _project(X, self.mean, self.scale, self.pca_mean, self.components, self.unit)


def reduce(X: np.ndarray, *, seed: int = 0, pca_variance: float = 0.95,
           unit_rows: bool = False) -> Reduced:
    """Standardise -> PCA keeping `pca_variance` of the variance -> (`unit_rows`) rows to unit
    length.

    Unit rows are off by default: they raised NMI on some dev sets but no bootstrap over the
    tracks called it significant on all three, for either backend (README, Cluster quality: the
    rule). Models recorded with them keep them (Model.unit). When on, after the scaling, not
    before: standardised columns weigh alike, so a row's length there is how far the track lies
    from the library's average, which cosine leaves out."""
    Z = np.array(X, dtype=np.float64)  # one copy, standardised in place: 100k rows are big
    mean, std = Z.mean(axis=0), Z.std(axis=0)  # StandardScaler's, without its checks' time
    # a column constant but for rounding is left unscaled, as StandardScaler does
    scale = np.where(std > 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean)),
                     std, 1.0)
    Z -= mean
    Z /= scale
    n_comp = pca_variance if pca_variance < 1.0 and min(Z.shape) > 1 else min(Z.shape)
    # Many more tracks than features: the covariance's eigenvectors are the same components as
    # a full SVD's, at a tenth of the time for 100k tracks.
    solver = "covariance_eigh" if Z.shape[0] >= 10 * Z.shape[1] else "full"
    pca = PCA(n_components=n_comp, svd_solver=solver, random_state=seed).fit(Z)
    P = pca.transform(Z)
    P = neighbours.unit_rows(P, np.float64) if unit_rows else P
    return Reduced(P, mean, scale, pca.components_, pca.mean_, unit_rows)


def fit(X: np.ndarray, k: int, *, method: str = "kmeans", seed: int = 0,
        pca_variance: float = 0.95, minibatch_threshold: int = MINIBATCH_THRESHOLD,
        reduced: Reduced | None = None, previous: Model | None = None) -> Clustering:
    """Cluster raw vectors: reduce, then run `method` from methods.REGISTRY.

    KMeans is MiniBatchKMeans above `minibatch_threshold` rows. With the `previous` run's model
    (same k), KMeans also starts from its centroids and keeps that solution when it fits within
    methods.STABILITY_SLACK of a fresh search: playlists then change only where the music asks
    for it. Noise tracks of the density methods keep label -1 and distance NaN.
    """
    if len(X) < k:
        raise ClusterError(f"cannot make {plural(k, 'cluster')} from "
                           f"{plural(len(X), 'analysed track')}")
    r = reduced or reduce(X, seed=seed, pca_variance=pca_variance)
    start = r.project(previous.raw_centroids()) if previous is not None else None
    raw, centroids = methods.fit_labels(method, r.P, k, seed,
                                        minibatch_threshold=minibatch_threshold, start=start)
    if not len(centroids):
        raise ClusterError(f"{method} found no cluster: every track is noise")
    order = _size_order(raw, centroids)
    labels = np.where(raw >= 0, np.argsort(order)[np.maximum(raw, 0)], -1)
    centroids = centroids[order]
    model = Model(r.mean, r.scale, r.components, r.pca_mean, centroids,
                  np.arange(1, len(centroids) + 1), r.unit)
    dist = _distances(r.P, centroids)[np.arange(len(labels)), np.maximum(labels, 0)]
    return Clustering(labels, np.where(labels >= 0, dist, np.nan), model)


def vote(window_labels: np.ndarray, window_dist: np.ndarray, owners: np.ndarray,
         n_tracks: int) -> tuple[np.ndarray, np.ndarray]:
    """chunk_level: each track takes the cluster most of its windows fell into.

    Ties go to the cluster whose windows lie closer on average; the track's distance is the mean
    distance of its windows in the winning cluster.
    """
    labels = np.empty(n_tracks, dtype=int)
    dist = np.empty(n_tracks)
    for t in range(n_tracks):
        mine = owners == t
        wl, wd = window_labels[mine], window_dist[mine]
        clusters, counts = np.unique(wl, return_counts=True)
        best = clusters[counts == counts.max()]
        means = [wd[wl == c].mean() for c in best]
        labels[t] = best[int(np.argmin(means))]
        dist[t] = float(np.min(means))
    return labels, dist


def _size_order(labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Old label indices sorted by size (desc), ties by centroid coordinates."""
    sizes = np.bincount(labels[labels >= 0], minlength=len(centroids))
    keys = sorted(range(len(centroids)),
                  key=lambda c: (-sizes[c], tuple(np.round(centroids[c], 9))))
    return np.array(keys)


def _project(X: np.ndarray, mean: np.ndarray, scale: np.ndarray, pca_mean: np.ndarray,
             components: np.ndarray, unit: bool) -> np.ndarray:
    """Standardise, project on the principal components, and (`unit`) scale rows to unit length."""
    P = ((np.asarray(X, dtype=np.float64) - mean) / scale - pca_mean) @ components.T
    return neighbours.unit_rows(P, np.float64) if unit else P


def _distances(P: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    d2 = (P**2).sum(1)[:, None] - 2 * P @ centroids.T + (centroids**2).sum(1)[None, :]
    return np.sqrt(np.maximum(d2, 0.0))
