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
    pooling: str  # the backend's default pooling (Embedder.pooling)


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
    name: str
    build: Callable[[Analysed], Space]


def pooled(a: Analysed, how: str) -> np.ndarray:
    """Each clip's window vectors pooled as the backends pool them (embedders.base.pool)."""
    return np.stack([pool(w, how) for w in a.windows]).astype(np.float64)


def variants(default_pooling: str) -> list[Variant]:
    """Both poolings with and without unit rows (mean without them is the path before; the
    backend's pooling with them its new default), PCA amounts on the path before and on the
    new default, and the other methods on the new default."""
    def combo(how: str, unit: bool) -> Variant:
        name = f"{how}{' + unit rows' if unit else ''}"
        name = ("before: " if (how, unit) == ("mean", False) else
                "NEW DEFAULT: " if (how, unit) == (default_pooling, True) else "") + name
        return Variant(name, lambda a: Space(pooled(a, how), unit_rows=unit))

    def before_pca(amount: float) -> Variant:
        return Variant(f"before, PCA {amount:g}" if amount < 1 else "before, no PCA",
                       lambda a: Space(pooled(a, "mean"), pca_variance=amount, unit_rows=False))

    new = f"{default_pooling} + unit rows"
    return [
        *(combo(how, unit) for how in ("mean", "mean_std") for unit in (False, True)),
        *(before_pca(amount) for amount in (0.8, 0.9, 1.0)),
        Variant(f"{new}, PCA 0.8", lambda a: Space(a.X, pca_variance=0.8)),
        Variant(f"{new}, PCA 0.9", lambda a: Space(a.X, pca_variance=0.9)),
        Variant(f"{new}, no PCA", lambda a: Space(a.X, pca_variance=1.0)),
        Variant(f"{new}, -m autoencoder", lambda a: Space(a.X, method="autoencoder")),
        Variant(f"{new}, -m vae", lambda a: Space(a.X, method="vae")),
    ]


def side_by_side(parts: list[Analysed]) -> Space:
    """Two backends' vectors of the same clips next to each other (standardised together)."""
    at = [{p: i for i, p in enumerate(a.paths)} for a in parts]
    return Space(np.hstack([a.X[[where[p] for p in parts[0].paths]]
                            for a, where in zip(parts, at)]))
