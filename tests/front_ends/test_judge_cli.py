"""Issue 5 through the real command line: -n auto, --evaluate --labels, --plot, stable numbers."""

from __future__ import annotations

import itertools
import re

import pytest
from conftest import GENRES, pick_clips

from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow


def test_auto_evaluate_plot_and_stable_numbers(beets_env, tmp_path):
    beets_env.import_clips(pick_clips(per_genre=10))
    for genre in GENRES:
        beets_env.beet("modify", "-y", f"path:{beets_env.music / genre}", f"genre={genre}")

    auto = beets_env.beet("cluster", "-n", "auto")
    chosen = int(re.search(r"k=(\d+), the best silhouette among", auto.stdout).group(1))
    assert 2 <= chosen <= 12
    assert len(list(beets_env.playlists.glob("*.m3u8"))) == chosen

    four = beets_env.beet("cluster", "-n", "4")
    assert "agreement with the previous run (ARI)" in four.stdout
    table = beets_env.beet("cluster", "--evaluate", "--labels", "genre").stdout
    for measure in ("silhouette", "calinski_harabasz", "davies_bouldin", "nmi", "ari", "purity"):
        assert measure in table, table
    png = tmp_path / "map.png"
    beets_env.beet("cluster", "--plot", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    before = members_by_number(beets_env)
    beets_env.import_clips(pick_clips(per_genre=1, offset=20)[:2])  # 5 % more tracks
    again = beets_env.beet("cluster", "-n", "4").stdout
    ari = float(re.search(r"\(ARI\) ([\d.]+)", again).group(1))
    print(f"ARI after adding 5 % tracks: {ari:.3f}")
    after = members_by_number(beets_env)
    assert sorted(after) == sorted(before) == [1, 2, 3, 4]  # no fresh numbers for the same k

    def kept(perm) -> int:  # tracks that keep their number if new cluster n were called perm[n]
        return sum(len(after[n] & before[perm[i]]) for i, n in enumerate(sorted(after)))

    best = max(kept(p) for p in itertools.permutations(sorted(before)))
    assert kept(sorted(before)) == best  # the numbering the run chose keeps the most tracks


def members_by_number(env) -> dict[int, set[str]]:
    out = {}
    for f in env.playlists.glob("*.m3u8"):
        out[int(f.stem.split()[0])] = {str((f.parent / x).resolve()) for x in read_playlist(f)}
    return out


def test_evaluate_judges_the_run_on_disk_whatever_its_backend(beets_env):
    # issue 19: after `-b musicnn` the playlists on disk are musicnn's; --evaluate under the
    # handcrafted config showed the older handcrafted run
    pytest.importorskip("torch", reason="the musicnn backend needs torch (the [deep] extra)")
    pytest.importorskip("musicnn", reason="musicnn weights absent")
    beets_env.import_clips(pick_clips(per_genre=2))  # 8 clips
    beets_env.beet("cluster", "-n", "3")
    beets_env.beet("cluster", "-n", "2", "-b", "musicnn")
    assert len(list(beets_env.playlists.glob("*.m3u8"))) == 2
    table = beets_env.beet("cluster", "--evaluate").stdout
    assert "run 2 (musicnn, k=2)" in table, table
    assert "k=3" not in table, table
