"""The option sets scripts/quality.py measures: each builds, from a folder's stored analyses,
the matrix the core's fit clusters (and the space the neighbours are ranked in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from beetsplug.cluster import neighbours
from beetsplug.cluster.clustering.fit import Reduced, reduce
from beetsplug.cluster.embedders.base import pool


@dataclass(frozen=True)
class Analysed:
    """One backend's analysis of one folder, in the order of `paths`."""

    paths: list[str]
    X: np.ndarray  # (n, vector_dim) the stored track vectors, pooled as the backend pools
    windows: list[np.ndarray]  # per clip (n_windows, dim)
    y: np.ndarray  # labels


@dataclass(frozen=True)
class Space:
    X: np.ndarray
    method: str = "kmeans"
    pca_variance: float = 0.95
    unit_rows: bool = True  # the clustering space's rows to unit length (fit.reduce)

    def reduced(self) -> Reduced:
        return reduce(self.X, pca_variance=self.pca_variance, unit_rows=self.unit_rows)

    def neighbour_rows(self) -> np.ndarray:
        return neighbours.cosine_space(self.X, pca_variance=self.pca_variance)


@dataclass(frozen=True)
class Variant:
    backend: str
    name: str
    build: Callable[[Analysed], Space]


def pooled(a: Analysed, how: str) -> np.ndarray:
    """Each clip's window vectors pooled as the backends pool them (embedders.base.pool)."""
    return np.stack([pool(w, how) for w in a.windows]).astype(np.float64)


def _for(backend: str, default_pooling: str) -> list[Variant]:
    """Today's path (mean pooling, no unit rows), each change alone, the new default, and the
    amount of PCA on the new default."""
    def v(name: str, build: Callable[[Analysed], Space]) -> Variant:
        return Variant(backend, name, build)

    other = "mean" if default_pooling == "mean_std" else "mean_std"
    new = f"{default_pooling} + unit rows"
    return [
        v("before: mean, PCA 0.95", lambda a: Space(pooled(a, "mean"), unit_rows=False)),
        v("mean + unit rows", lambda a: Space(pooled(a, "mean"))),
        v("mean_std", lambda a: Space(pooled(a, "mean_std"), unit_rows=False)),
        v(f"{other} + unit rows", lambda a: Space(pooled(a, other))),
        v(f"NEW DEFAULT: {new}", lambda a: Space(a.X)),
        v(f"{new}, PCA 0.8", lambda a: Space(a.X, pca_variance=0.8)),
        v(f"{new}, PCA 0.9", lambda a: Space(a.X, pca_variance=0.9)),
        v(f"{new}, no PCA", lambda a: Space(a.X, pca_variance=1.0)),
        v(f"{new}, -m autoencoder", lambda a: Space(a.X, method="autoencoder")),
        v(f"{new}, -m vae", lambda a: Space(a.X, method="vae")),
    ]


VARIANTS: list[Variant] = [*_for("handcrafted", "mean_std"), *_for("musicnn", "mean")]
