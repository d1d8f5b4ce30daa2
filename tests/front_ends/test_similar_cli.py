"""`beet similar` through the real beets command line on a real library: what it prints, the
files it writes, and a later `beet cluster` that leaves them alone."""

from __future__ import annotations

import os

import mutagen
import pytest
from conftest import copy_clips, pick_clips

from beetsplug.cluster.output.playlists import read_playlist


def tag(path, artist: str, album: str, title: str) -> None:
    f = mutagen.File(path, easy=True)
    if f.tags is None:
        f.add_tags()
    f["artist"], f["album"], f["title"] = artist, album, title
    f.save()


@pytest.mark.slow
def test_beet_similar_prints_writes_and_survives_beet_cluster(beets_env):
    env = beets_env
    clips = copy_clips(pick_clips(per_genre=2), env.root / "incoming")
    for i, clip in enumerate(clips):
        tag(clip, "Solo" if i < 4 else f"Band {i}", "One" if i < 4 else f"LP {i}",
            "Seed" if i == 0 else f"Song {i}")
    env.beet("import", "-A", "-s", "-q", *map(str, clips))
    env.beet("cluster", "-n", "2")

    out = env.beet("similar", "-n", "6", "title:Seed").stdout
    rows = [ln.split(None, 2) for ln in out.splitlines() if ln[:3].strip().isdigit()]
    marked = [r[0].endswith("*") for r in rows]  # moved down for variety (issue 19)
    rows = [[r[0].rstrip("*"), *r[1:]] for r in rows]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    for i, r in enumerate(rows):
        assert marked[i] == (i > 0 and float(r[1]) < max(float(x[1]) for x in rows[:i])), out
    assert ("* moved down for variety" in out) == any(marked), out
    assert rows[0][2] == "Solo - Seed" and float(rows[0][1]) == 0.0
    assert [r[2] for r in rows].count("Solo - Seed") == 1
    assert sum(r[2].startswith("Solo - ") for r in rows) <= 3  # similar_per_artist: 3
    own = env.playlists / "Similar"  # similar_dir: apart from the cluster playlists (issue 19)
    similar = own / "Similar to Seed.m3u8"
    lines = read_playlist(similar)
    assert len(lines) == 6 and len(set(lines)) == 6
    assert all(os.path.exists(own / ln) for ln in lines)
    assert (own / lines[0]).name == clips[0].name

    out = env.beet("similar", "--path", "title:Seed", "title:Song 7", "-n", "4").stdout
    path = own / "Seed to Song 7.m3u8"
    steps = read_playlist(path)
    assert len(steps) == 4 and len(set(steps)) == 4, out
    assert (own / steps[0]).name == clips[0].name
    assert (own / steps[-1]).name == clips[7].name

    env.beet("similar", "-p", "-n", "3", "-o", "never.m3u8", "title:Seed")
    assert not (own / "never.m3u8").exists()
    env.beet("similar", "-n", "3", "-o", "mine.m3u8", "title:Seed")
    assert len(read_playlist(own / "mine.m3u8")) == 3

    bad = env.beet("similar", "--text", "calm piano", check=False)
    assert bad.returncode != 0 and "text tower" in bad.stderr

    env.beet("cluster", "-n", "3")  # a new set of cluster playlists: ours stay
    assert read_playlist(similar) == lines and read_playlist(path) == steps
    assert (own / "mine.m3u8").exists()
    clusters = [p for p in env.playlists.iterdir() if p.name[:2].isdigit()]
    assert len(clusters) == 3
    assert len(list(env.playlists.glob("*.m3u8"))) == 3  # a reader of the folder sees k lists
