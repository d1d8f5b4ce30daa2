"""The map as one self-contained HTML page: an inline SVG of the tracks (each title on hover),
a legend that hides and shows a playlist on click, and the table of playlists. Nothing is
fetched: no CDN script, font or image, so the page works offline and from a file."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from .labels import Box, spread

if TYPE_CHECKING:
    from .plot import MapData

WIDTH, HEIGHT = 960, 660
# the plot area inside the SVG; the axis labels go below and left of it
LEFT, TOP, RIGHT, BOTTOM = 52, 12, WIDTH - 12, HEIGHT - 58
PAD = 14  # between the frame and the outermost dots
NAME_PX = 12  # the name labels' font size; a bold sans glyph is about 0.62 of it wide


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _scale(xy: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Map coordinates -> SVG pixels (y down), the box lo..hi filling the plot area."""
    span = np.where(hi > lo, hi - lo, 1.0)
    unit = (np.asarray(xy, dtype=np.float64) - lo) / span
    return np.column_stack([LEFT + PAD + unit[:, 0] * (RIGHT - LEFT - 2 * PAD),
                            BOTTOM - PAD - unit[:, 1] * (BOTTOM - TOP - 2 * PAD)])


def _svg(data: MapData) -> str:
    lo, hi = data.xy.min(axis=0), data.xy.max(axis=0)
    px = _scale(data.xy, lo, hi)
    r = float(np.clip(60 / np.sqrt(len(px)), 2.0, 5.0))
    groups = []
    for c in data.order:
        playlist = _esc(data.names[c])
        mine = np.flatnonzero(data.labels == c)
        dots = "".join(
            f'<circle cx="{px[i, 0]:.1f}" cy="{px[i, 1]:.1f}" r="{r:.1f}">'
            f"<title>{_esc(data.titles[i])}\n{playlist}</title></circle>"
            for i in mine
        )
        groups.append(f'<g class="dots" data-c="{c}" fill="{data.colours[c]}">{dots}</g>')
    # the names above every playlist's dots, each hidden with its playlist
    numbers = list(data.centres)
    at = _scale(np.array([data.centres[c] for c in numbers]).reshape(-1, 2), lo, hi)
    boxes = spread([Box(x, y, 0.62 * NAME_PX * len(data.names[c]) + 10, NAME_PX + 8)
                    for c, (x, y) in zip(numbers, at)], (LEFT, TOP, RIGHT, BOTTOM))
    names = "".join(
        f'<g class="name" data-c="{c}"><rect x="{b.x - b.w / 2:.1f}" y="{b.y - b.h / 2:.1f}" '
        f'width="{b.w:.1f}" height="{b.h:.1f}" rx="4" style="stroke:{data.colours[c]}"/>'
        f'<text x="{b.x:.1f}" y="{b.y:.1f}">{_esc(data.names[c])}</text></g>'
        for c, b in zip(numbers, boxes)
    )
    p = data.projection
    x_label, y_label = data.axes[0].label(f"{p} 1"), data.axes[1].label(f"{p} 2")
    x_detail, y_detail = data.axes[0].detail(), data.axes[1].detail()
    mid_x, mid_y = (LEFT + RIGHT) / 2, (TOP + BOTTOM) / 2
    axes = (
        f'<text class="axis" x="{mid_x}" y="{BOTTOM + 24}">{_esc(x_label)}</text>'
        f'<text class="detail" x="{mid_x}" y="{BOTTOM + 42}">{_esc(x_detail)}</text>'
        f'<text class="axis" transform="translate({LEFT - 30} {mid_y}) rotate(-90)">'
        f"{_esc(y_label)}</text>"
        f'<text class="detail" transform="translate({LEFT - 12} {mid_y}) rotate(-90)">'
        f"{_esc(y_detail)}</text>"
    )
    frame = (f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{RIGHT - LEFT}" '
             f'height="{BOTTOM - TOP}"/>')
    return (f'<svg id="map" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{_esc(data.heading)}">{frame}{"".join(groups)}{names}{axes}</svg>')


def render(data: MapData) -> str:
    legend = "".join(
        f'<li><button type="button" data-c="{c}" aria-pressed="true">'
        f'<span class="dot" style="background:{data.colours[c]}"></span>'
        f'{_esc(data.names[c])} <span class="size">({data.sizes[c]})</span></button></li>'
        for c in data.order
    )
    rows = "".join(
        f'<tr><td><span class="dot" style="background:{data.colours[c]}"></span></td>'
        f"<td>{'' if c < 0 else c}</td><td>{_esc(data.names[c])}</td>"
        f"<td>{data.sizes[c]}</td></tr>"
        for c in data.order
    )
    return PAGE.format(title=_esc(data.heading), svg=_svg(data), legend=legend, rows=rows,
                       script=SCRIPT, style=STYLE)


STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #202020; }
main { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
#map { flex: 1 1 640px; max-width: 1100px; }
.frame { fill: none; stroke: #ccc; }
.dots circle { fill-opacity: 0.75; }
.dots circle:hover { stroke: #000; stroke-width: 2; fill-opacity: 1; }
.name { pointer-events: none; }
.name rect { fill: #fff; fill-opacity: 0.85; stroke-width: 1.5; }
.name text { font: bold 12px sans-serif; text-anchor: middle; dominant-baseline: central;
             fill: #202020; }
.axis { font: 14px sans-serif; text-anchor: middle; }
.detail { font: 11px sans-serif; text-anchor: middle; fill: #666; }
#legend { list-style: none; padding: 0; margin: 0; }
#legend button { font: inherit; background: none; border: 0; padding: 0.15em 0.3em;
                 cursor: pointer; text-align: left; }
#legend button.off { opacity: 0.35; text-decoration: line-through; }
.dot { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 50%;
       margin-right: 0.4em; vertical-align: -0.1em; }
.size { color: #666; }
table { border-collapse: collapse; margin-top: 1.5em; }
td, th { padding: 0.2em 0.8em; text-align: left; }
td:nth-child(4) { text-align: right; }
#tip { position: absolute; background: #fff; border: 1px solid #999; padding: 0.3em 0.5em;
       font-size: 13px; white-space: pre-line; pointer-events: none; }
"""

# Hover: the circle's own <title> (a native tooltip, also without script) moves into a tip
# that shows at once. Legend: a click hides or shows the playlist's dots and name.
SCRIPT = """
const tip = document.getElementById("tip");
for (const dot of document.querySelectorAll("#map circle")) {
  dot.dataset.t = dot.firstElementChild.textContent;
  dot.firstElementChild.remove();
}
const map = document.getElementById("map");
map.addEventListener("mousemove", (e) => {
  const t = e.target.dataset ? e.target.dataset.t : undefined;
  tip.hidden = !t;
  if (t) {
    tip.textContent = t;
    tip.style.left = e.pageX + 14 + "px";
    tip.style.top = e.pageY + 14 + "px";
  }
});
map.addEventListener("mouseleave", () => { tip.hidden = true; });
for (const button of document.querySelectorAll("#legend button")) {
  button.addEventListener("click", () => {
    const off = button.classList.toggle("off");
    button.setAttribute("aria-pressed", String(!off));
    for (const el of map.querySelectorAll('[data-c="' + button.dataset.c + '"]')) {
      el.style.display = off ? "none" : "";
    }
  });
}
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{style}</style></head>
<body><h1>{title}</h1>
<p>Each dot is a track; tracks close together sound alike. Point at a dot for its title;
click a playlist in the legend to hide or show it.</p>
<main>{svg}
<section><h2>Playlists</h2><ul id="legend">{legend}</ul></section></main>
<table><tr><th></th><th>number</th><th>playlist</th><th>tracks</th></tr>{rows}</table>
<div id="tip" hidden></div>
<script>{script}</script>
</body></html>
"""
