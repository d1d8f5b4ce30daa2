"""The map: tracks in 2-D (PCA, t-SNE or UMAP), coloured by playlist, as PNG and optional HTML."""

from __future__ import annotations

import base64
import html as html_lib
import os
import secrets
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from ..errors import ClusterError
from ..text import plural

NOISE = -1
NOISE_COLOUR = "#b0b0b0"
PROJECTIONS = ("pca", "tsne", "umap")
# t-SNE and UMAP take minutes on a whole library; a seeded sample of this size shows the same.
MAX_POINTS = 5000


class PlotError(ClusterError, ValueError):
    """The map cannot be drawn as asked (missing extra, unknown projection)."""


def project(X: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(n, dim) -> (n, 2) with the named projection, seeded."""
    X = np.asarray(X, dtype=np.float64)
    if method == "pca":
        if X.shape[1] == 1:
            return np.hstack([X, np.zeros_like(X)])
        return PCA(n_components=2, random_state=seed).fit_transform(X)
    if method == "tsne":
        if X.shape[1] > 50:  # the usual step before t-SNE: cheaper, and removes noise dims
            X = PCA(n_components=50, random_state=seed).fit_transform(X)
        perplexity = float(min(30.0, max(2.0, (X.shape[0] - 1) / 3)))
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(X)
    if method == "umap":
        try:
            import umap
        except ImportError as exc:
            raise PlotError("the UMAP map needs umap-learn: pip install umap-learn") from exc
        return umap.UMAP(n_components=2, random_state=seed).fit_transform(X)
    raise PlotError(f"unknown projection {method!r}; choose one of {PROJECTIONS}")


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise PlotError("the map needs matplotlib: pip install 'beets-cluster[plot]'") from exc
    matplotlib.use("Agg")  # no display on a server or in the daemon
    import matplotlib.pyplot as plt

    return plt


def colours(labels: list[int]) -> dict[int, str]:
    """A distinct colour per cluster label: tab10/tab20 while they last, then evenly spaced hues."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    real = [c for c in labels if c != NOISE]
    if len(real) <= 10:
        cmap, pos = colormaps["tab10"], [i / 10 + 0.05 for i in range(len(real))]
    elif len(real) <= 20:
        cmap, pos = colormaps["tab20"], [i / 20 + 0.025 for i in range(len(real))]
    else:
        cmap, pos = colormaps["hsv"], [i / len(real) for i in range(len(real))]
    out = {c: to_hex(cmap(p)) for c, p in zip(real, pos)}
    if NOISE in labels:
        out[NOISE] = NOISE_COLOUR
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # 0o666 under the umask, as any saved picture (tempfile would make it private, 0600)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise


def plot_map(
    X: np.ndarray,
    labels: np.ndarray,
    names: Mapping[int, str],
    out: Path,
    method: str = "pca",
    html: bool = False,
    seed: int = 0,
    size_px: tuple[int, int] = (1200, 800),
    max_points: int = MAX_POINTS,
) -> list[Path]:
    """Draw the tracks X in 2-D coloured by `labels`, with a legend of playlist `names`.

    Writes the PNG to `out` (exactly `size_px` pixels) and, with `html`, a self-contained page
    beside it (`out` with .html: the PNG embedded as base64 plus a table of playlists; no
    network). Noise (-1) is grey and listed as "no playlist". Above `max_points` tracks a
    seeded sample is drawn and the title says so. Returns the paths written.
    """
    plt = _pyplot()
    X, labels = np.asarray(X), np.asarray(labels)
    if X.shape[0] != labels.shape[0] or X.shape[0] < 2:
        raise PlotError(f"need at least 2 tracks with one label each, got {X.shape[0]}")
    n = X.shape[0]
    idx = np.arange(n)
    if n > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
    xy = project(X[idx], method, seed)
    shown = labels[idx]
    order = sorted({int(c) for c in labels}, key=lambda c: (c == NOISE, c))
    colour = colours(order)
    sizes = {c: int((labels == c).sum()) for c in order}
    legend = {
        c: "no playlist (noise)" if c == NOISE else names.get(c, f"cluster {c}") for c in order
    }
    dpi = 100
    fig, ax = plt.subplots(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi,
                           layout="constrained")  # fmt: skip
    point = max(2.0, min(30.0, 4000 / len(idx)))
    for c in order:
        sel = shown == c
        ax.scatter(xy[sel, 0], xy[sel, 1], s=point, c=colour[c], alpha=0.75, linewidths=0,
                   label=f"{legend[c]} ({sizes[c]})", zorder=1 if c == NOISE else 2)  # fmt: skip
    what = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}[method]
    tracks = plural(n, "track")
    sample = f", {len(idx)} of {tracks} shown" if len(idx) < n else f", {tracks}"
    ax.set_title(f"Playlists on a {what} map{sample}")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small",
              markerscale=max(1.0, 30 / point) ** 0.5, frameon=False,
              ncol=1 if len(order) <= 24 else 2)  # fmt: skip
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    png = buf.getvalue()
    _write_atomic(out, png)
    written = [out]
    if html:
        page = out.with_suffix(".html")
        rows = "".join(
            f'<tr><td><span style="background:{colour[c]}"></span></td>'
            f"<td>{'' if c == NOISE else c}</td>"
            f"<td>{html_lib.escape(legend[c])}</td>"
            f"<td>{sizes[c]}</td></tr>"
            for c in order
        )
        doc = HTML.format(
            title=html_lib.escape(f"Playlists on a {what} map"),
            png=base64.b64encode(png).decode("ascii"),
            rows=rows,
        )
        _write_atomic(page, doc.encode("utf-8"))
        written.append(page)
    return written


HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
img {{ max-width: 100%; height: auto; }}
table {{ border-collapse: collapse; margin-top: 1em; }}
td, th {{ padding: 0.2em 0.8em; text-align: left; }}
td span {{ display: inline-block; width: 1em; height: 1em; border-radius: 50%; }}
</style></head>
<body><h1>{title}</h1>
<img alt="{title}" src="data:image/png;base64,{png}">
<table><tr><th></th><th>number</th><th>playlist</th><th>tracks</th></tr>{rows}</table>
</body></html>
"""
