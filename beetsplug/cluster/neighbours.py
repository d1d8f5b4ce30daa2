"""The maths of `beet similar`: a cosine space, nearest tracks to seeds, a path between two
tracks, and the variety rules that pick a playlist out of a ranking. Pure numpy; no I/O.

The space is the clustering's own (standardise + PCA, clustering/fit.reduce) with each row
scaled to unit length, so one matrix product gives every cosine at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

_BLOCK = 8192
SAME_RECORDING = 1e-3  # cosine distance under which two tracks of one artist and title are one


def unit_rows(X: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """Each row scaled to unit length (a zero row stays zero); the clustering's space too."""
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return (X / np.where(norms > 0, norms, 1.0)).astype(dtype, copy=False)


def cosine_space(X: np.ndarray, *, pca_variance: float = 0.95) -> np.ndarray:
    """Raw vectors -> unit rows in the clustering's scaled space (clustering/fit.reduce:
    standardise, then the principal components holding `pca_variance` of the variance).

    The components are the eigenvectors of the dim x dim correlation matrix, which one pass of
    sums and products gives; the standardising folds into the projection, so the 100k x dim
    matrix is read three times in all, where an SVD of it takes ten times as long. The same
    subspace (signs aside, which no cosine sees): a test compares it with fit.reduce.

    On one BLAS thread: these products are small, and threads that wait for a busy core made
    them ten times slower (measured 1.2-3.9 s against 0.14 s at 100k x 85 on two busy cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return _cosine_space(np.asarray(X, dtype=np.float32), pca_variance)


def _cosine_space(X: np.ndarray, pca_variance: float) -> np.ndarray:
    if len(X) < 2:
        return unit_rows(X.astype(np.float64))
    # Centred on a rough mean first, so the sums of squares below lose nothing to cancelling.
    Y = X - X[:: max(1, len(X) // 1000)].mean(axis=0, dtype=np.float64).astype(np.float32)
    n = len(Y)
    mean = Y.sum(axis=0, dtype=np.float64) / n
    gram = np.zeros((Y.shape[1], Y.shape[1]))
    for i in range(0, n, _BLOCK):  # in blocks: a cache-sized product is 4x faster here
        gram += Y[i : i + _BLOCK].T @ Y[i : i + _BLOCK]
    cov = (gram - n * np.outer(mean, mean)) / (n - 1)
    std = np.sqrt(np.maximum(np.diag(cov), 0.0))
    std = np.where(std > 1e-12 * max(std.max(), 1.0), std, 1.0)  # a constant column stays 0
    values, vectors = np.linalg.eigh(cov / np.outer(std, std))
    values, vectors = np.maximum(values[::-1], 0.0), vectors[:, ::-1]
    keep = min(n, len(values))
    if pca_variance < 1.0 and values.sum() > 0:  # as sklearn's PCA counts a float n_components
        ratios = np.cumsum(values) / values.sum()
        keep = min(keep, int(np.searchsorted(ratios, pca_variance, side="right")) + 1)
    W = vectors[:, :keep] / std[:, None]  # (Y - mean) / std @ V, as one product
    return unit_rows(Y @ W.astype(np.float32) - (mean @ W).astype(np.float32))


def seed_scores(U: np.ndarray, seeds: Sequence[int]) -> np.ndarray:
    """Each row's similarity to the seeds: its cosine to the FURTHEST seed. The mean would let
    one very close seed carry a track far from the others (for two unlike seeds, the top of the
    list is the near copies of one of them); the worst one ranks by closeness to all."""
    return (U @ U[list(seeds)].T).min(axis=1)


@dataclass(frozen=True)
class Meta:
    """What the variety rules read of a track (lower-cased; None: untagged, its own)."""

    artist: str | None = None
    album: str | None = None  # album artist + album, so two "Greatest Hits" differ
    title: str | None = None
    fingerprint: str | None = None  # the store's audio fingerprint


class Variety:
    """At most `per_artist` per artist and `per_album` per album (0: no limit), one of each
    recording (same fingerprint, or same artist and title at a near-zero distance)."""

    def __init__(self, meta: Sequence[Meta], U: np.ndarray, per_artist: int, per_album: int):
        self.meta, self.U = meta, U
        self.per_artist, self.per_album = per_artist, per_album
        self.artists: dict[str, int] = {}
        self.albums: dict[str, int] = {}
        self.prints: set[str] = set()
        self.named: dict[tuple[str, str], list[int]] = {}
        self.taken: set[int] = set()

    def allowed(self, i: int) -> bool:
        m = self.meta[i]
        if i in self.taken or (m.fingerprint and m.fingerprint in self.prints):
            return False
        if m.artist and self.per_artist and self.artists.get(m.artist, 0) >= self.per_artist:
            return False
        if m.album and self.per_album and self.albums.get(m.album, 0) >= self.per_album:
            return False
        twins = self.named.get((m.artist, m.title), []) if m.artist and m.title else []
        return not any(float(self.U[i] @ self.U[j]) > 1 - SAME_RECORDING for j in twins)

    def take(self, i: int) -> None:
        m = self.meta[i]
        self.taken.add(i)
        if m.fingerprint:
            self.prints.add(m.fingerprint)
        if m.artist:
            self.artists[m.artist] = self.artists.get(m.artist, 0) + 1
        if m.album:
            self.albums[m.album] = self.albums.get(m.album, 0) + 1
        if m.artist and m.title:
            self.named.setdefault((m.artist, m.title), []).append(i)

    def same_artist(self, i: int, j: int | None) -> bool:
        a = self.meta[i].artist
        return j is not None and a is not None and a == self.meta[j].artist


def pick(ranked: Iterable[int], n: int, rules: Variety, start: Sequence[int] = ()) -> list[int]:
    """The first `n` of `ranked` that the rules allow, after `start`; a track by the artist of
    the one before waits for the next place (taken anyway when nothing else is left)."""
    chosen = list(start)
    for i in chosen:
        rules.take(i)
    waiting: list[int] = []  # allowed, but by the previous track's artist: higher ranked first
    it = iter(ranked)
    while len(chosen) < n:
        prev = chosen[-1] if chosen else None
        waiting = [w for w in waiting if rules.allowed(w)]
        got = next((w for w in waiting if not rules.same_artist(w, prev)), None)
        if got is None:
            for i in it:
                if not rules.allowed(i):
                    continue
                if rules.same_artist(i, prev):
                    waiting.append(i)
                    continue
                got = i
                break
        if got is None and waiting:
            got = waiting[0]  # unavoidable: only this artist is left
        if got is None:
            break
        if got in waiting:
            waiting.remove(got)
        rules.take(got)
        chosen.append(got)
    return chosen


def walk(U: np.ndarray, a: int, b: int, n: int, rules: Variety) -> list[int]:
    """`n` tracks from a to b: step i is the allowed track nearest to the point i/(n-1) of the
    straight line from a to b plus its distance to step i-1 (so it neither jumps off the line
    nor back and forth along it); a and b are taken first so nothing repeats them."""
    rules.take(a)
    rules.take(b)
    chosen = [a]
    for step in range(1, max(n, 2) - 1):
        f = step / (n - 1)
        target = ((1 - f) * U[a] + f * U[b]).astype(U.dtype)  # no upcast of all of U
        prev = chosen[-1]
        # unit rows: |u - t|^2 = 1 + |t|^2 - 2 u.t, two matrix-vector products per step
        to_line = np.sqrt(np.maximum(1 + target @ target - 2 * (U @ target), 0))
        cost = to_line + np.sqrt(np.maximum(2 - 2 * (U @ U[prev]), 0))
        got = _best_step(cost, prev, rules)
        if got is None:
            break
        rules.take(got)
        chosen.append(got)
    return [*chosen, b]


def _best_step(cost: np.ndarray, prev: int, rules: Variety) -> int | None:
    """The cheapest allowed track not by prev's artist (by it, when nothing else is left).
    The few cheapest first; the whole sort only when all of those are ruled out."""
    few = min(len(cost), 64)
    head = np.argpartition(cost, few - 1)[:few]
    for whole in (False, True):
        order = (np.argsort(cost, kind="stable") if whole else
                 head[np.argsort(cost[head], kind="stable")])
        fits = [int(i) for i in order if rules.allowed(int(i))]
        other = next((i for i in fits if not rules.same_artist(i, prev)), None)
        if other is not None:
            return other
        if whole and fits:
            return fits[0]
    return None


def cosine_distance(U: np.ndarray, i: int, j: int) -> float:
    return max(0.0, 1.0 - float(U[i] @ U[j]))
