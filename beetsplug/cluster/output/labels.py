"""A map's name labels moved apart: the PNG (plot.py) and the HTML page (map_page.py) both
place playlist names near their centres without covering each other."""

from __future__ import annotations

from typing import NamedTuple


class Box(NamedTuple):
    """A name label in pixels: its centre and size."""

    x: float
    y: float
    w: float
    h: float


def spread(boxes: list[Box], frame: tuple[float, float, float, float], gap: float = 2.0,
           rounds: int = 100) -> list[Box]:
    """Move name labels apart (vertically) and inside `frame` (x0, y0, x1, y1) until none
    overlap, or `rounds` have passed: neighbouring playlists' centres are often closer than a
    name is wide, and a name over the edge would cover the axis label. Each label moves as
    little as the overlaps ask, so it stays near its playlist's centre."""
    out = list(boxes)
    x0, y0, x1, y1 = frame
    for _ in range(rounds):
        moved = False
        for i, b in enumerate(out):
            x = min(max(b.x, x0 + b.w / 2 + gap), x1 - b.w / 2 - gap)
            y = min(max(b.y, y0 + b.h / 2 + gap), y1 - b.h / 2 - gap)
            if (x, y) != (b.x, b.y):
                out[i], moved = b._replace(x=x, y=y), True
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                over_x = (a.w + b.w) / 2 + gap - abs(a.x - b.x)
                over_y = (a.h + b.h) / 2 + gap - abs(a.y - b.y)
                if over_x <= 0 or over_y <= 0:
                    continue
                push = over_y / 2 + 0.5
                if a.y > b.y or (a.y == b.y and i < j):
                    push = -push
                out[i], out[j] = a._replace(y=a.y - push), b._replace(y=b.y + push)
                moved = True
        if not moved:
            break
    return out
