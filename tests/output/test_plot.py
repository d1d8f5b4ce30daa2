from __future__ import annotations

import struct
import sys

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from beetsplug.cluster.output.labels import Box, spread
from beetsplug.cluster.output.plot import Describers, PlotError, plot_map, project, read_axis

pytest.importorskip("matplotlib")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def library() -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    X, y = make_blobs(n_samples=300, centers=4, n_features=12, random_state=9)
    y[:10] = -1
    names = {0: "rock · guitar · fast", 1: "slow · dark · calm", 2: "Jazz · 1960s", 3: "pop"}
    return X, y, names


def test_png_of_the_right_size(tmp_path, library):
    X, y, names = library
    written = plot_map(X, y, names, tmp_path / "maps" / "clusters.png", size_px=(900, 600))
    assert written == [tmp_path / "maps" / "clusters.png"]
    data = written[0].read_bytes()
    assert len(data) > 10_000
    assert png_size(data) == (900, 600)
    assert [p.name for p in (tmp_path / "maps").iterdir()] == ["clusters.png"]  # no temp left


def test_html_is_self_contained(tmp_path, library):
    X, y, names = library
    _, page = plot_map(X, y, names, tmp_path / "map.png", html=True)
    text = page.read_text(encoding="utf-8")
    assert page.name == "map.html"
    assert "<svg" in text  # the map itself, inline (issue 19: an SVG, not the PNG)
    assert "http://" not in text and "https://" not in text and "src=" not in text
    assert "rock · guitar · fast" in text and "no playlist (noise)" in text
    assert text.count("<tr>") == 1 + 5  # header, 4 playlists, noise


def test_tsne_is_seeded_and_sampled(library):
    X, _, _ = library
    a = project(X[:120], "tsne", seed=2)
    assert a.shape == (120, 2)
    assert np.allclose(a, project(X[:120], "tsne", seed=2))


def test_big_library_is_sampled_in_the_title(tmp_path, library):
    X, y, names = library
    out = plot_map(X, y, names, tmp_path / "s.png", max_points=100, size_px=(400, 300))[0]
    assert png_size(out.read_bytes()) == (400, 300)


def test_clear_errors(tmp_path, library, monkeypatch):
    X, y, names = library
    with pytest.raises(PlotError, match="unknown projection 'mds'"):
        plot_map(X, y, names, tmp_path / "x.png", method="mds")
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(PlotError, match="pip install umap-learn"):
        project(X, "umap")


def test_spread_names_overlap_nowhere_and_stay_inside():
    frame = (0.0, 0.0, 400.0, 300.0)
    boxes = [Box(200, 150, 160, 20), Box(210, 152, 120, 20), Box(190, 148, 200, 20),
             Box(395, 5, 100, 20)]  # three on one spot, one over the corner
    out = spread(boxes, frame)
    for i, a in enumerate(out):
        assert a.x - a.w / 2 >= 0 and a.x + a.w / 2 <= 400
        assert a.y - a.h / 2 >= 0 and a.y + a.h / 2 <= 300
        for b in out[i + 1:]:
            assert abs(a.x - b.x) >= (a.w + b.w) / 2 or abs(a.y - b.y) >= (a.h + b.h) / 2
    assert [b.x for b in out[:3]] == [200, 210, 190]  # moved only up or down


def test_tags_name_the_end_where_they_are_likely():
    rng = np.random.default_rng(0)
    coord = rng.normal(size=200)
    tags = np.column_stack([coord + rng.normal(scale=0.3, size=200),  # grows with the axis
                            -coord + rng.normal(scale=0.6, size=200),  # falls with it, less closely
                            rng.normal(size=200)])  # unrelated
    sign, meaning = read_axis(-coord, Describers(tags=tags, tag_names=("rock", "piano", "x")))
    assert sign == -1.0  # turned: "rock" grows to the right
    assert meaning.high == ("rock",) and meaning.low == ("piano",)
    assert "x" not in meaning.label("PCA 1") and meaning.label("PCA 1").startswith("piano")


def test_an_axis_nothing_follows_says_so():
    rng = np.random.default_rng(1)
    _, meaning = read_axis(rng.normal(size=300), Describers({"tempo": rng.normal(size=300)}))
    assert meaning.label("PCA 1") == "PCA 1"
    assert meaning.detail().startswith("no descriptor follows this axis (strongest: tempo r = ")
