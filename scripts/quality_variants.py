"""The option sets scripts/quality.py measures: each builds, from a folder's stored analyses,
the matrix the core's fit clusters (and the space the neighbours are ranked in)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from beetsplug.cluster import neighbours
from beetsplug.cluster.clustering.fit import Reduced, reduce


@dataclass(frozen=True)
class Analysed:
    """One backend's analysis of one folder, in the order of `paths`."""

    paths: list[str]
    X: np.ndarray  # (n, dim) the stored track vectors (the mean of the windows)
    windows: list[np.ndarray]  # per clip (n_windows, dim)
    tags: np.ndarray | None  # (n, n_tags) mean tag probabilities, if the model has tags
    y: np.ndarray  # labels


@dataclass(frozen=True)
class Space:
    X: np.ndarray
    method: str = "kmeans"
    pca_variance: float = 0.95
    reduced: Reduced | None = None  # given: fit clusters these rows instead of reducing X

    def neighbour_rows(self) -> np.ndarray:
        if self.reduced is not None:
            return neighbours.unit_rows(self.reduced.P)
        return neighbours.cosine_space(self.X, pca_variance=self.pca_variance)


@dataclass(frozen=True)
class Variant:
    backend: str
    name: str
    build: Callable[[dict[str, Analysed]], Space]


def unit_after(space: Space) -> Space:
    """Rows to unit length after standardise + PCA: KMeans on the sphere (spherical KMeans),
    in the very space `beet similar` measures cosines in."""
    r = reduce(space.X, pca_variance=space.pca_variance)
    return dataclasses.replace(space, reduced=dataclasses.replace(
        r, P=neighbours.unit_rows(r.P).astype(np.float64)))


def mean_std(a: Analysed) -> np.ndarray:
    """Mean and spread (std) of each clip's window vectors, side by side."""
    return np.stack([np.concatenate([w.mean(axis=0), w.std(axis=0)]) for w in a.windows])


def fused(blocks: list[np.ndarray], pca_variance: float = 0.95) -> Space:
    """Each block standardised and reduced on its own, scaled to unit total variance so that
    neither block outweighs the other by its number of columns, then side by side."""
    parts = []
    for B in blocks:
        P = reduce(B, pca_variance=pca_variance).P
        parts.append(P / np.sqrt(P.var(axis=0).sum()))
    P = np.hstack(parts)
    d = P.shape[1]
    r = Reduced(P, np.zeros(d), np.ones(d), np.eye(d), np.zeros(d))
    return Space(P, reduced=r)


def aligned(data: dict[str, Analysed], backend: str, other: str) -> np.ndarray:
    """`other`'s vectors in the order of `backend`'s clips."""
    at = {p: i for i, p in enumerate(data[other].paths)}
    return data[other].X[[at[p] for p in data[backend].paths]]


def _for(backend: str) -> list[Variant]:
    def v(name: str, build: Callable[[Analysed], Space]) -> Variant:
        return Variant(backend, name, lambda data: build(data[backend]))

    return [
        v("today (mean, PCA 0.95)", lambda a: Space(a.X)),
        v("L2 rows before scaling", lambda a: Space(neighbours.unit_rows(a.X).astype(float))),
        v("L2 rows after PCA (spherical)", lambda a: unit_after(Space(a.X))),
        v("PCA 0.8", lambda a: Space(a.X, pca_variance=0.8)),
        v("PCA 0.9", lambda a: Space(a.X, pca_variance=0.9)),
        v("no PCA", lambda a: Space(a.X, pca_variance=1.0)),
        v("mean+std pooling", lambda a: Space(mean_std(a))),
        v("mean+std + L2 after", lambda a: unit_after(Space(mean_std(a)))),
        v("autoencoder", lambda a: Space(a.X, method="autoencoder")),
        v("vae", lambda a: Space(a.X, method="vae")),
    ]


VARIANTS: list[Variant] = [
    *_for("handcrafted"),
    *_for("musicnn"),
    Variant("musicnn", "fused with handcrafted", lambda d: fused(
        [d["musicnn"].X, aligned(d, "musicnn", "handcrafted")])),
    Variant("musicnn", "fused with its tags", lambda d: fused([d["musicnn"].X,
                                                                d["musicnn"].tags])),
    Variant("musicnn", "fused with tags + handcrafted", lambda d: fused(
        [d["musicnn"].X, d["musicnn"].tags, aligned(d, "musicnn", "handcrafted")])),
]
