"""How good is a clustering: internal measures always, external ones against known labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import isnan

import numpy as np
from sklearn import metrics

from . import NOISE

# Silhouette is O(n^2); above this many tracks it is computed on a seeded sample.
SILHOUETTE_SAMPLE = 5000

INTERNAL = ("silhouette", "calinski_harabasz", "davies_bouldin")
EXTERNAL = ("ari", "nmi", "v_measure", "homogeneity", "completeness", "purity")
# Higher is better for every measure except Davies-Bouldin; the table says so.
LOWER_IS_BETTER = frozenset({"davies_bouldin"})


def internal_measures(
    X: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    *,
    sample_size: int = SILHOUETTE_SAMPLE,
    seed: int = 0,
) -> dict[str, float | int]:
    """Silhouette, Calinski-Harabasz and Davies-Bouldin of `labels` on the vectors `X`.

    Noise tracks (label -1) belong to no cluster, so they are left out and counted in
    "noise". With fewer than two clusters, or as many clusters as tracks, the measures are
    undefined and returned as NaN rather than raising: a run with one cluster is still a run.
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    if X.shape[0] != labels.shape[0]:
        raise ValueError(f"{X.shape[0]} vectors but {labels.shape[0]} labels")
    keep = labels != NOISE
    Xk, lk = X[keep], labels[keep]
    n, k = int(lk.shape[0]), int(np.unique(lk).shape[0])
    out: dict[str, float | int] = {"n": n, "noise": int((~keep).sum()), "clusters": k}
    if not 2 <= k < n:
        out.update({m: float("nan") for m in INTERNAL})
        return out
    sample = sample_size if n > sample_size else None
    out["silhouette"] = float(
        metrics.silhouette_score(Xk, lk, sample_size=sample, random_state=seed)
    )
    out["calinski_harabasz"] = float(metrics.calinski_harabasz_score(Xk, lk))
    out["davies_bouldin"] = float(metrics.davies_bouldin_score(Xk, lk))
    return out


def purity(labels_true: Sequence[object], labels_pred: Sequence[int]) -> float:
    """Share of tracks whose cluster's most common true label is their own."""
    if len(labels_true) == 0:
        return float("nan")
    table = metrics.cluster.contingency_matrix(labels_true, labels_pred)
    return float(table.max(axis=0).sum() / table.sum())


def external_measures(
    labels_true: Sequence[object], labels_pred: Sequence[int] | np.ndarray
) -> dict[str, float | int]:
    """ARI, NMI, V-measure, homogeneity, completeness and purity against known labels.

    Tracks whose true label is None (or "") have nothing to be judged against: they are left
    out and counted in "unlabelled". Noise tracks (-1) are left out too and counted in "noise",
    the same rule as the internal measures, so both halves of a table describe the same tracks.
    """
    true = list(labels_true)
    pred = np.asarray(labels_pred)
    if len(true) != pred.shape[0]:
        raise ValueError(f"{len(true)} true labels but {pred.shape[0]} predicted")
    has_label = np.array([t is not None and t != "" for t in true], dtype=bool)
    noise = pred == NOISE
    keep = has_label & ~noise
    t = [str(x) for x, ok in zip(true, keep) if ok]
    p = pred[keep]
    out: dict[str, float | int] = {
        "n": int(keep.sum()),
        "unlabelled": int((~has_label).sum()),
        "noise": int((noise & has_label).sum()),
    }
    if not t:
        out.update({m: float("nan") for m in EXTERNAL})
        return out
    h, c, v = metrics.homogeneity_completeness_v_measure(t, p)
    out.update(
        ari=float(metrics.adjusted_rand_score(t, p)),
        nmi=float(metrics.normalized_mutual_info_score(t, p)),
        v_measure=float(v),
        homogeneity=float(h),
        completeness=float(c),
        purity=purity(t, p),
    )
    return out


def _cell(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if isnan(v):
            return "n/a"
        return f"{v:.1f}" if abs(v) >= 100 else f"{v:.3f}"
    return str(value)


def format_table(runs: Mapping[str, Mapping[str, object]]) -> str:
    """A plain-text table: one row per measure, one column per run (e.g. "k=4", "auto").

    Measures appear in a fixed order (counts, internal, external), then anything else the
    runs carry; a measure a run lacks shows as "-". Davies-Bouldin is marked "(lower better)".
    """
    if not runs:
        return ""
    order = ["n", "clusters", "noise", "unlabelled", *INTERNAL, *EXTERNAL]
    keys = [m for m in order if any(m in r for r in runs.values())]
    keys += sorted({m for r in runs.values() for m in r} - set(keys))
    label = {m: m + (" (lower better)" if m in LOWER_IS_BETTER else "") for m in keys}
    rows = [["measure", *runs]]
    rows += [[label[m], *(_cell(r.get(m)) for r in runs.values())] for m in keys]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
