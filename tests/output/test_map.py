"""Issue 19 item 6: the map explains itself, on full-length tracks through the real `beet`
command: each playlist's name on the picture, axes named by the descriptors that follow them,
an offline HTML page with every track's title, a legend per playlist and the table."""

from __future__ import annotations

import html
import re
import struct

import numpy as np
import pytest
from conftest import BeetsEnv

from beetsplug.cluster import embedders
from beetsplug.cluster.clustering import recorded
from beetsplug.cluster.output import plot
from beetsplug.cluster.output.playlists import read_playlist
from beetsplug.cluster.store import Store

pytest.importorskip("matplotlib")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clustered(full_slice, tmp_path_factory) -> BeetsEnv:
    """full_slice imported into a real beets library and clustered once, k=4."""
    env = BeetsEnv(tmp_path_factory.mktemp("map"))
    full_slice.copy_to(env.music)
    env.beet("import", "-A", "-q", str(env.music))
    env.beet("cluster", "-n", "4")
    return env


def test_png_and_html_explain_the_map(clustered, tmp_path):
    env = clustered
    png = tmp_path / "map.png"
    out = env.beet("cluster", "--plot", str(png), "--html").stdout
    page = png.with_suffix(".html")
    assert f"wrote {png}" in out and f"wrote {page}" in out

    data = png.read_bytes()
    assert struct.unpack(">II", data[16:24]) == (1200, 800)
    from matplotlib.image import imread

    pixels = imread(png)[..., :3]
    ink = (pixels < 0.9).any(axis=2).mean()
    assert 0.02 < ink < 0.6, ink  # dots, names and labels; not blank, not a solid block
    assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50

    text = page.read_text(encoding="utf-8")
    # offline: nothing fetched, no address anywhere (an inline SVG needs no xmlns)
    for outside in ("http://", "https://", "src=", "url(", "@import", "//cdn"):
        assert outside not in text, outside
    titles = env.beet("ls", "-f", "$artist - $title").stdout.splitlines()
    assert len(titles) == 32
    for title in titles:  # hover text: each track's own <title> in the SVG
        assert f"<title>{html.escape(title)}\n" in text, title

    lists = sorted(env.playlists.glob("*.m3u8"))
    assert len(lists) == 4
    legend = re.findall(r'<button type="button" data-c="(\d+)"[^>]*>.*?</span>(.*?) '
                        r'<span class="size">\((\d+)\)</span></button>', text)
    assert sorted((html.unescape(name), int(n)) for _, name, n in legend) == sorted(
        (f.stem, len(read_playlist(f))) for f in lists)
    rows = re.findall(r"<tr><td>.*?</td><td>(\d+)</td><td>(.*?)</td><td>(\d+)</td></tr>", text)
    assert sorted((html.unescape(name), int(n)) for _, name, n in rows) == sorted(
        (f.stem, len(read_playlist(f))) for f in lists)
    # each playlist's name at its centre, hidden with its dots (one data-c per legend entry)
    for number, name, _ in legend:
        assert f'<g class="name" data-c="{number}">' in text
        assert re.search(rf'<g class="dots" data-c="{number}" ', text)
    assert text.count('<g class="name"') == 4

    # the axes are named by the descriptors the playlists are named from
    keys = embedders.descriptor_columns("handcrafted")
    words = {w for key in keys for w in plot.end_words(key)}
    axes = [html.unescape(a) for a in re.findall(r'<text class="axis"[^>]*>(.*?)</text>', text)]
    details = re.findall(r'<text class="detail"[^>]*>(.*?)</text>', text)
    assert len(axes) == len(details) == 2
    for detail in details:  # every axis says which descriptor follows it, and how well
        assert re.search(rf"({'|'.join(keys)}) r = [+-]0\.\d\d", detail), detail
    named = [a for a in axes if "←" in a]
    assert named, axes  # at least one axis reads as words at both ends on this library
    for label in named:
        low, high = label.split("←")[0], label.split("→")[-1]
        assert set(low.strip().split(" · ")) <= words and set(high.strip().split(" · ")) <= words
    print("axes:", axes, details)


def test_layout_reads_axes_and_centres_from_the_run(clustered):
    """The same run read back through the core: the words each axis gets follow it in the
    drawn orientation, and each name sits at the median of its playlist."""
    store = Store(clustered.root / "cluster.db")  # beside library.db, the default
    try:
        run = store.last_run()
        space = recorded.run_space(store, run)
        describers = recorded.describers(store, run, space)
        assert set(describers.descriptors) == set(embedders.descriptor_columns("handcrafted"))
        data = plot.layout(space.P, space.numbers, space.names, describers=describers)
    finally:
        store.close()
    for axis, meaning in enumerate(data.axes):
        best = meaning.strongest
        assert best is not None and best.r >= 0  # turned so the strongest grows rightwards
        again = plot._rank_correlation(data.xy[:, axis], describers.descriptors[best.name])
        assert again == pytest.approx(best.r)
        for term in meaning.terms:
            assert abs(term.r) >= plot.MIN_R
            low, high = plot.end_words(term.name)
            assert (low in meaning.low and high in meaning.high) == (term.r > 0)
    for c, (x, y) in data.centres.items():
        mine = data.xy[data.labels == c]
        assert (x, y) == pytest.approx(tuple(np.median(mine, axis=0)))
    assert set(data.centres) == {int(c) for c in np.unique(space.numbers)}

