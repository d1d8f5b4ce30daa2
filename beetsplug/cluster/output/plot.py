"""The map: tracks in 2-D (PCA, t-SNE or UMAP), coloured by playlist, each playlist's name at
its centre and each axis read by the descriptors (or tags) that follow it; a PNG and, with
`html`, a self-contained page (map_page.py)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from ..clustering import NOISE
from ..errors import ClusterError
from ..text import plural
from .labels import Box, spread

NOISE_COLOUR = "#b0b0b0"
PROJECTIONS = ("pca", "tsne", "umap")
PROJECTION_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
# t-SNE and UMAP take minutes on a whole library; a seeded sample of this size shows the same.
MAX_POINTS = 5000
# A rank correlation weaker than this does not say what an axis means: the label says so
# instead of naming a descriptor that barely follows it.
MIN_R = 0.3
WORDS_PER_END = 2


class PlotError(ClusterError, ValueError):
    """The map cannot be drawn as asked (missing extra, unknown projection)."""


@dataclass(frozen=True)
class Describers:
    """Per-track values an axis can be read by, aligned with the tracks: the descriptors the
    playlists are named from ({"energy": one value per track}) and a network's tag
    probabilities (n_tracks x len(tag_names))."""

    descriptors: Mapping[str, np.ndarray] = field(default_factory=dict)
    tags: np.ndarray | None = None
    tag_names: tuple[str, ...] = ()

    def rows(self, idx: np.ndarray) -> Describers:
        return Describers({k: np.asarray(v)[idx] for k, v in self.descriptors.items()},
                          None if self.tags is None else np.asarray(self.tags)[idx],
                          self.tag_names)


class Term(NamedTuple):
    """A descriptor or tag and how it follows an axis."""

    name: str
    r: float  # Spearman correlation with the axis as drawn (after orienting it)
    low: str | None  # its word at the low end ("calm"); a tag has none
    high: str  # its word at the high end ("loud", or the tag)


@dataclass(frozen=True)
class AxisMeaning:
    low: tuple[str, ...] = ()  # words for the left (bottom) end
    high: tuple[str, ...] = ()  # words for the right (top) end
    terms: tuple[Term, ...] = ()  # the terms the words come from, strongest first
    strongest: Term | None = None  # the best term, even when too weak to name the axis

    def label(self, axis: str) -> str:
        """"calm · dark  ←  PCA 1  →  loud · bright"; the bare axis name when nothing follows it."""
        if not self.low and not self.high:
            return axis
        return f"{' · '.join(self.low) or '…'}  ←  {axis}  →  {' · '.join(self.high) or '…'}"

    def detail(self) -> str:
        """The correlations behind the words, or why there are none."""
        if self.terms:
            return "  ".join(f"{t.name} r = {t.r:+.2f}" for t in self.terms)
        if self.strongest is not None:
            return (f"no descriptor follows this axis "
                    f"(strongest: {self.strongest.name} r = {self.strongest.r:+.2f})")
        return ""


@dataclass(frozen=True)
class MapData:
    """What both pictures draw: the shown tracks in 2-D, oriented so each axis's words read
    low to high, and the playlists with their names, colours, sizes and centres."""

    xy: np.ndarray  # (m, 2) the tracks shown
    labels: np.ndarray  # (m,) their cluster numbers
    titles: list[str]  # (m,) "artist - title" of each
    order: list[int]  # cluster numbers, noise last
    names: dict[int, str]  # number -> playlist name (noise: "no playlist (noise)")
    colours: dict[int, str]
    sizes: dict[int, int]  # tracks per playlist in the whole run, not only those shown
    centres: dict[int, tuple[float, float]]  # where each playlist's name goes
    axes: tuple[AxisMeaning, AxisMeaning]
    projection: str  # "PCA", "t-SNE", "UMAP"
    total: int  # tracks in the run

    @property
    def heading(self) -> str:
        playlists = plural(sum(c != NOISE for c in self.order), "playlist")
        shown = (f"{len(self.labels)} of {plural(self.total, 'track')} shown"
                 if len(self.labels) < self.total else plural(self.total, "track"))
        return f"{playlists} on a {self.projection} map of how the tracks sound ({shown})"


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


def _rank_correlation(coord: np.ndarray, values: np.ndarray) -> float | None:
    """Spearman's r over the tracks with a finite value; None where it is undefined. Ranks:
    tempo in log2 BPM and energy in dB follow an axis as well as their raw values would."""
    from scipy.stats import rankdata

    values = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(values)
    if ok.sum() < 3:
        return None
    a, b = rankdata(coord[ok]), rankdata(values[ok])
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else None


def end_words(key: str) -> tuple[str, str]:
    """A descriptor's words for its low and high end, from the naming code's vocabulary, so the
    axes speak the playlists' words ("calm" ... "energetic")."""
    from ..clustering import describe

    name = describe.ALIASES.get(key, key)
    # (low, ..., high) per descriptor: describe.WORDS where the naming code has it, else the
    # outer words of its thirds (BANDS)
    table = getattr(describe, "WORDS", None) or getattr(describe, "BANDS", {})
    words = table.get(name)
    return (words[0], words[-1]) if words else (f"low {name}", f"high {name}")


def read_axis(coord: np.ndarray, describers: Describers) -> tuple[float, AxisMeaning]:
    """The sign to draw the axis with and what it then means.

    Every descriptor and tag is ranked by how strongly it follows the axis; the axis is turned
    so that the strongest one grows to the right (up), and the ends take the words of those
    that reach MIN_R: a descriptor its low and high words (`end_words`: "calm" and "energetic"
    for energy), a tag its name at the end where it is more likely.
    """
    terms = []
    for key, values in describers.descriptors.items():
        r = _rank_correlation(coord, values)
        if r is not None:
            terms.append(Term(key, r, *end_words(key)))
    if describers.tags is not None:
        tags = np.asarray(describers.tags)
        for j, tag in enumerate(describers.tag_names):
            r = _rank_correlation(coord, tags[:, j])
            if r is not None:
                terms.append(Term(tag, r, None, tag))
    if not terms:
        return 1.0, AxisMeaning()
    terms.sort(key=lambda t: -abs(t.r))
    sign = -1.0 if terms[0].r < 0 else 1.0
    terms = [t._replace(r=t.r * sign) for t in terms]
    low: list[str] = []
    high: list[str] = []
    used: list[Term] = []
    for t in terms:
        if abs(t.r) < MIN_R or (len(low) >= WORDS_PER_END and len(high) >= WORDS_PER_END):
            break
        at_low, at_high = (t.low, t.high) if t.r > 0 else (t.high, t.low)
        ends = [(end, word) for end, word in ((low, at_low), (high, at_high)) if word]
        # a descriptor speaks for both ends at once, or not at all: one word alone would read
        # as if the other end had no descriptor
        if any(len(end) >= WORDS_PER_END or word in end for end, word in ends):
            continue
        for end, word in ends:
            end.append(word)
        used.append(t)
    return sign, AxisMeaning(tuple(low), tuple(high), tuple(used), terms[0])


def colours(labels: list[int]) -> dict[int, str]:
    """A distinct colour per cluster label: the ten tab10 hues first, then their light tab20
    twins (adjacent tab20 colours are one hue twice: clusters 1 and 2 would look alike), then
    evenly spaced hues."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    real = [c for c in labels if c != NOISE]
    if len(real) <= 20:
        tab20 = colormaps["tab20"]
        picks = [tab20(2 * i) for i in range(10)] + [tab20(2 * i + 1) for i in range(10)]
    else:
        hsv = colormaps["hsv"]
        picks = [hsv(i / len(real)) for i in range(len(real))]
    out = {c: to_hex(p) for c, p in zip(real, picks)}
    if NOISE in labels:
        out[NOISE] = NOISE_COLOUR
    return out


def layout(
    X: np.ndarray,
    labels: np.ndarray,
    names: Mapping[int, str],
    method: str = "pca",
    seed: int = 0,
    max_points: int = MAX_POINTS,
    titles: Sequence[str] | None = None,
    describers: Describers | None = None,
) -> MapData:
    """Project the tracks (a seeded sample above `max_points`), orient and read the axes,
    place each playlist's name at the median of its tracks."""
    X, labels = np.asarray(X), np.asarray(labels)
    if X.shape[0] != labels.shape[0] or X.shape[0] < 2:
        raise PlotError(f"need at least 2 tracks with one label each, got {X.shape[0]}")
    n = X.shape[0]
    if titles is not None and len(titles) != n:
        raise PlotError(f"{len(titles)} titles for {n} tracks")
    idx = np.arange(n)
    if n > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
    xy = project(X[idx], method, seed)
    shown = labels[idx]
    axes = []
    for axis in range(2):
        sign, meaning = read_axis(xy[:, axis], (describers or Describers()).rows(idx))
        xy[:, axis] *= sign
        axes.append(meaning)
    order = sorted({int(c) for c in labels}, key=lambda c: (c == NOISE, c))
    centres = {c: (float(np.median(xy[shown == c, 0])), float(np.median(xy[shown == c, 1])))
               for c in order if c != NOISE and (shown == c).any()}
    return MapData(
        xy=xy, labels=shown,
        titles=[titles[i] for i in idx] if titles is not None else [f"track {i + 1}" for i in idx],
        order=order,
        names={c: "no playlist (noise)" if c == NOISE else names.get(c, f"cluster {c}")
               for c in order},
        colours=colours(order),
        sizes={c: int((labels == c).sum()) for c in order},
        centres=centres, axes=(axes[0], axes[1]), projection=PROJECTION_NAMES[method], total=n)


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise PlotError("the map needs matplotlib: pip install 'beets-cluster[plot]'") from exc
    matplotlib.use("Agg")  # no display on a server or in the daemon
    import matplotlib.pyplot as plt

    return plt


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


def _spread_texts(texts: list, fig, ax) -> None:
    """`spread` on the PNG's name labels, measured as the renderer draws them."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    boxes = [Box((e.x0 + e.x1) / 2, (e.y0 + e.y1) / 2, e.width, e.height)
             for e in (t.get_window_extent(renderer) for t in texts)]
    to_data = ax.transData.inverted()
    for t, before, after in zip(texts, boxes, spread(boxes, tuple(frame.extents))):
        x, y = ax.transData.transform(t.get_position())
        t.set_position(to_data.transform((x + after.x - before.x, y + after.y - before.y)))


def _plain(text: str) -> str:
    """Text as written: two "$" in a name (an artist "Ke$ha" and a "$100" album) would make
    matplotlib set the words between them as a formula."""
    return text.replace("$", r"\$")


def draw_png(data: MapData, size_px: tuple[int, int] = (1200, 800)) -> bytes:
    """The PNG of `data`, exactly `size_px` pixels."""
    plt = _pyplot()
    from matplotlib import patheffects

    dpi = 100
    fig, ax = plt.subplots(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi,
                           layout="constrained")  # fmt: skip
    xy, shown = data.xy, data.labels
    point = max(4.0, min(40.0, 6000 / len(shown)))
    for c in data.order:
        sel = shown == c
        ax.scatter(xy[sel, 0], xy[sel, 1], s=point, c=data.colours[c], alpha=0.7, linewidths=0,
                   label=f"{_plain(data.names[c])} ({data.sizes[c]})",
                   zorder=1 if c == NOISE else 2)  # fmt: skip
    texts = [
        ax.text(x, y, _plain(data.names[c]), ha="center", va="center", fontsize=9,
                fontweight="bold", color="#202020", zorder=4,
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": data.colours[c],
                      "lw": 1.5, "alpha": 0.85},
                path_effects=[patheffects.withStroke(linewidth=2, foreground="white")])
        for c, (x, y) in data.centres.items()
    ]
    ax.set_title(data.heading, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])
    p = data.projection
    for axis, meaning, setter in ((1, data.axes[0], ax.set_xlabel),
                                  (2, data.axes[1], ax.set_ylabel)):
        detail = meaning.detail()
        setter(meaning.label(f"{p} {axis}") + (f"\n{detail}" if detail else ""), fontsize=10)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small",
              markerscale=max(1.0, 30 / point) ** 0.5, frameon=False,
              title="playlist (tracks)", ncol=1 if len(data.order) <= 24 else 2)  # fmt: skip
    # the names must stay inside the plot: widen the limits by a margin before spreading them
    ax.margins(0.08)
    _spread_texts(texts, fig, ax)
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


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
    titles: Sequence[str] | None = None,
    describers: Describers | None = None,
) -> list[Path]:
    """Draw the tracks X in 2-D coloured by `labels`, each playlist's name (`names`) at its
    centre, the axes labelled by the `describers` that follow them.

    Writes the PNG to `out` (exactly `size_px` pixels) and, with `html`, a self-contained page
    beside it (`out` with .html: an inline SVG of the same map with each track's title on
    hover, a legend that hides and shows a playlist, and the table of playlists; no network).
    `titles` ("artist - title", aligned with X) name the tracks on the page. Noise (-1) is grey
    and listed as "no playlist". Above `max_points` tracks a seeded sample is drawn and the
    title says so. Returns the paths written.
    """
    data = layout(X, labels, names, method, seed, max_points, titles, describers)
    png = draw_png(data, size_px)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(out, png)
    written = [out]
    if html:
        from . import map_page

        page = out.with_suffix(".html")
        _write_atomic(page, map_page.render(data).encode("utf-8", errors="replace"))
        written.append(page)
    return written
