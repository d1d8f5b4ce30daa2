"""The option sets scripts/quality.py measures: each builds, from a set's stored window
vectors, the matrix the core's fit clusters (and the space the neighbours are ranked in)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from beetsplug.cluster import neighbours
from beetsplug.cluster.analysis.audio_stream import spread
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
    durations: list[float | None]  # seconds per track, as beets knows them
    window_seconds: float


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


def capped(a: Analysed, keep: int | None) -> list[np.ndarray]:
    """Each track's window vectors as the decoder keeps them under a cap of `keep` windows:
    `keep` evenly spread, first and last included (analysis.audio_stream.spread); None: all.
    Cut from a store of every window, so the curve needs one analysis, not one per cap."""
    if keep is None:
        return list(a.windows)
    return [w[spread(len(w), keep)] if len(w) > keep else w for w in a.windows]


def pooled(a: Analysed, how: str, keep: int | None = None) -> np.ndarray:
    """Each track's (capped) window vectors pooled as the backends pool them
    (embedders.base.pool)."""
    return np.stack([pool(w, how) for w in capped(a, keep)]).astype(np.float64)


@dataclass(frozen=True)
class Variant:
    """An option set: a pooling, unit rows or not, a window cap (None: the analysis's own)."""

    pooling: str
    unit_rows: bool
    keep: int | None = None

    @property
    def name(self) -> str:
        return (("mean + spread" if self.pooling == "mean_std" else "mean")
                + (", unit rows" if self.unit_rows else ""))

    @property
    def changes(self) -> int:
        """Steps away from the simplest option set (mean, no unit rows)."""
        return (self.pooling != "mean") + self.unit_rows

    def build(self, a: Analysed) -> Space:
        return Space(pooled(a, self.pooling, self.keep), unit_rows=self.unit_rows)


def variants(keep: int | None = None) -> list[Variant]:
    """The pooling and unit-row option sets, the simplest (mean, no unit rows) first."""
    return [Variant(how, unit, keep) for how in ("mean", "mean_std") for unit in (False, True)]
