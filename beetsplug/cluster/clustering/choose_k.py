"""`-n auto`: scan a range of k, score each by silhouette and inertia, pick one, draw the curve.

Silhouette alone nearly always favours k = 2 on music, whose styles blend (198 tracks from 12
games: two playlists of 100 tracks). So the scan first bounds k by what makes a playlist
useful, from the library's own size: on average at most MAX_HOURS of music (k >= hours /
MAX_HOURS) and at least MIN_TRACKS tracks (k <= tracks / MIN_TRACKS); within those bounds the
best silhouette wins. Where the bounds cross (few, long tracks), the hours bound wins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import silhouette_score

from ..text import plural
from .kmeans import MINIBATCH_THRESHOLD, kmeans

# Silhouette on more tracks than this is sampled (seeded): O(n^2) distances otherwise.
SILHOUETTE_SAMPLE = 5000
# Silhouettes closer than this to the best are a tie: on a sample they differ by noise alone.
TIE = 0.01
# A useful playlist, on average: an evening's listening at most, a few dozen tracks at least.
MAX_HOURS = 3.0
MIN_TRACKS = 20


@dataclass(frozen=True)
class KScan:
    """What a scan over k found. Tuples are aligned with `ks`."""

    ks: tuple[int, ...]
    silhouette: tuple[float, ...]
    inertia: tuple[float, ...]
    elbow: int | None  # k at the knee of the inertia curve; None when the curve has no knee
    best: int  # the chosen k
    sample_size: int  # tracks the silhouette was computed on
    eligible: tuple[int, int] = (0, 0)  # the k a useful playlist size allows (both included)
    best_silhouette: int = 0  # the best silhouette over every k, eligible or not

    def render(self, width: int = 40) -> str:
        """The curve for a terminal: one line per k, a bar as long as its silhouette."""
        return render_scan(self, width)


def knee_index(y: Iterable[float]) -> int | None:
    """Index of the knee of a monotone curve: the point farthest from the chord joining its ends.

    This is the Kneedle idea (Satopaa et al. 2011) without smoothing: x and y are scaled to
    [0, 1] so the answer does not depend on units. A straight line has no knee (None).
    """
    y = np.asarray(list(y), dtype=np.float64)
    if y.shape[0] < 3 or y[0] == y[-1]:
        return None
    x = np.linspace(0.0, 1.0, y.shape[0])
    yn = (y - y[0]) / (y[-1] - y[0])  # 0 at the first point, 1 at the last
    dist = np.abs(yn - x)  # distance to the chord y = x, up to a constant factor
    i = int(np.argmax(dist))
    return i if dist[i] > 1e-9 else None


def useful_range(ks: tuple[int, ...], tracks: int, hours: float | None) -> tuple[int, int]:
    """The k of `ks` whose playlists hold, on average, at most MAX_HOURS (when `hours` is
    known) and at least MIN_TRACKS tracks; never empty: clamped into `ks`, and where the two
    bounds cross the hours bound wins (a playlist too long to listen to is the worse fault)."""
    low = math.ceil(hours / MAX_HOURS) if hours else ks[0]
    high = tracks // MIN_TRACKS
    low = min(max(low, ks[0]), ks[-1])
    return low, max(min(high, ks[-1]), low)


def scan_k(
    X: np.ndarray,
    k_range: Iterable[int] = range(2, 13),
    seed: int = 0,
    sample: int = SILHOUETTE_SAMPLE,
    tie: float = TIE,
    minibatch_threshold: int = MINIBATCH_THRESHOLD,
    *,
    tracks: int | None = None,
    hours: float | None = None,
) -> KScan:
    """Fit KMeans for every k in `k_range` on the (already scaled) vectors and choose one.

    Only k within `useful_range` (from the number of `tracks`, default the rows of X, and the
    library's `hours`, when known) can be chosen; every k is scored and shown. The chosen k is
    the eligible one with the best silhouette (computed on a seeded sample of at most
    `sample` tracks, the same sample for every k so the scores compare). The elbow of the
    inertia curve is found too, and used only to break ties: when several k score within
    `tie` of the best silhouette, the one nearest the elbow wins (the smaller k if two are
    equally near), because such small silhouette gaps are sampling noise. Inertia alone always
    falls with k, so it is shown, not used to choose. k values that cannot be scored (k >= n)
    are dropped. Each k is fitted by the core's one kmeans, with the caller's
    `minibatch_threshold`, so the scan scores the same clusterer that fit then runs.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    ks = tuple(sorted({int(k) for k in k_range if 2 <= int(k) < n}))
    if not ks:
        raise ValueError(f"no k in the range can be scored on {plural(n, 'track')} "
                         "(need 2 <= k < n)")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=sample, replace=False)) if n > sample else np.arange(n)
    sil: list[float] = []
    inertia: list[float] = []
    for k in ks:
        model = kmeans(X, k, seed=seed, minibatch_threshold=minibatch_threshold)
        labels = model.labels[idx]
        # A sample can miss all but one cluster on a tiny library; score that as the worst.
        ok = 2 <= np.unique(labels).shape[0] < idx.shape[0]
        sil.append(float(silhouette_score(X[idx], labels)) if ok else -1.0)
        inertia.append(model.inertia)
    knee = knee_index(inertia)
    elbow = ks[knee] if knee is not None else None
    low, high = useful_range(ks, n if tracks is None else tracks, hours)
    scored = [(k, s) for k, s in zip(ks, sil) if low <= k <= high]
    top = max(s for _, s in scored)
    near = [k for k, s in scored if s >= top - tie]
    if elbow is not None:
        best = min(near, key=lambda k: (abs(k - elbow), k))
    else:
        best = next(k for k, s in scored if s == top)
    return KScan(ks, tuple(sil), tuple(inertia), elbow, best, int(idx.shape[0]), (low, high),
                 ks[sil.index(max(sil))])


def render_scan(scan: KScan, width: int = 40) -> str:
    """ASCII chart of a scan: silhouette bar per k (scaled to the best), inertia, markers."""
    top = max(max(scan.silhouette), 1e-12)
    lines = [f"{'k':>3}  {'silhouette':>10}  {'':{width}}  {'inertia':>9}"]
    for k, s, inertia in zip(scan.ks, scan.silhouette, scan.inertia):
        bar = "#" * max(0, round(width * s / top)) if s > 0 else ""
        marks = []
        if k == scan.best:
            marks.append("<- chosen")
        if k == scan.elbow:
            marks.append("elbow")
        lines.append(
            f"{k:3d}  {s:10.3f}  {bar:{width}}  {inertia:9.4g}  {' '.join(marks)}".rstrip()
        )
    lines.append(f"silhouette on {plural(scan.sample_size, 'track')}; useful k "
                 f"{scan.eligible[0]}..{scan.eligible[1]} (playlists of at most {MAX_HOURS:g} "
                 f"hours and at least {MIN_TRACKS} tracks on average); chosen k = {scan.best}")
    return "\n".join(lines)
