"""The maths of `beet similar`: a cosine space, nearest tracks to seeds, a path between two
tracks, and the variety rules that pick a playlist out of a ranking. Pure numpy; no I/O.

The space is the clustering's own (standardise + PCA, clustering/fit.reduce) with each row
scaled to unit length, so one matrix product gives every cosine at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .clustering.fit import reduce

SAME_RECORDING = 1e-3  # cosine distance under which two tracks of one artist and title are one


def unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return (X / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def cosine_space(X: np.ndarray, *, seed: int = 0, pca_variance: float = 0.95) -> np.ndarray:
    """Raw vectors -> unit rows in the clustering's scaled space (a single row stays raw)."""
    if len(X) < 2:
        return unit_rows(np.asarray(X, dtype=np.float64))
    return unit_rows(reduce(X, seed=seed, pca_variance=pca_variance).P)


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
        target = (1 - f) * U[a] + f * U[b]
        prev = chosen[-1]
        cost = np.linalg.norm(U - target, axis=1) + np.linalg.norm(U - U[prev], axis=1)
        order = np.argsort(cost, kind="stable")
        fits = (int(i) for i in order if rules.allowed(int(i)))
        first = next(fits, None)
        if first is None:
            break
        got = first if not rules.same_artist(first, prev) else next(
            (i for i in fits if not rules.same_artist(i, prev)), first)
        rules.take(got)
        chosen.append(got)
    return [*chosen, b]


def cosine_distance(U: np.ndarray, i: int, j: int) -> float:
    return max(0.0, 1.0 - float(U[i] @ U[j]))
