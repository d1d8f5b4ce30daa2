"""What stays out (issue 21 item 4): the `exclude` queries keep tracks out of the cluster
playlists and `beet similar`'s lists, and a folder under a `.nomusic` file is skipped by
`beet cluster` and by the daemon (the real process), on a real beets library of real clips."""

# ruff: noqa: F811  (the fixtures imported from daemon_helpers are test arguments here)
from __future__ import annotations

import os
from pathlib import Path

from conftest import BeetsEnv, copy_clips, pick_clips
from daemon_helpers import (  # noqa: F401  (template, library, daemons: fixtures)
    daemons,
    library,
    listed,
    members,
    template,
    wait_until,
)

from beetsplug.cluster.output.playlists import read_playlist


def clustered(env: BeetsEnv) -> set[str]:
    """The paths beets holds a cluster for (numbers start at 1; an import reads 0)."""
    out = env.beet("ls", "-f", "$path", "cluster:1..").stdout
    return set(out.split())


def test_exclude_keeps_tracks_out_of_clusters_and_similar_lists(tmp_path, emotify):
    env = BeetsEnv(tmp_path)
    clips = [str(p) for p in env.import_clips(pick_clips(per_genre=2))]
    book = clips[0]  # a classical clip, called an audiobook by a flexible field
    env.beet("modify", "-y", "-W", f"path:{book}", "kind=audiobook")
    env.beet("cluster", "-n", "2")
    assert set(listed(env)) == clustered(env) == set(clips)  # everything, before `exclude`

    rock = str(env.music / "rock")
    env = BeetsEnv(tmp_path, exclude=["kind:audiobook", f"path:{rock}"])  # the config only
    out = env.beet("cluster", "-n", "2").stdout
    kept = {p for p in clips if p != book and not p.startswith(rock + os.sep)}
    assert len(kept) == len(clips) - 3, out
    assert set(listed(env)) == kept  # the playlists
    assert clustered(env) == kept  # an earlier cluster is cleared on what is kept out

    target = tmp_path / "near.m3u8"
    env.beet("similar", "-n", "20", "-o", str(target), f"path:{clips[2]}")
    near = {os.path.normpath(target.parent / line) for line in read_playlist(target)}
    assert near and near <= kept, near - kept


def test_a_nomusic_folder_is_left_out_of_beet_cluster(tmp_path, emotify):
    env = BeetsEnv(tmp_path)
    clips = [str(p) for p in env.import_clips(pick_clips(per_genre=2))]
    (env.music / "electronic" / ".nomusic").touch()
    out = env.beet("cluster", "-n", "2").stdout
    assert "6 tracks" in out, out  # not even analysed
    kept = {p for p in clips if os.sep + "electronic" + os.sep not in p}
    assert set(listed(env)) == clustered(env) == kept


def test_the_daemon_skips_a_nomusic_folder(library, daemons):
    def new(offset: int, folder: str) -> Path:
        (clip,) = copy_clips(pick_clips(per_genre=1, offset=offset)[:1], library.music / folder)
        return clip

    (library.music / "books").mkdir()
    (library.music / "books" / ".nomusic").touch()
    early = new(6, "books/one")  # before the start: the catch-up scan sees it
    daemon = daemons(library)
    late, control = new(7, "books/two"), new(8, "incoming")
    wait_until(lambda: str(control) in listed(library), 30, "the control clip placed", daemon)
    shown = [p for paths in members(library).values() for p in paths]
    assert str(early) not in shown and str(late) not in shown
    assert daemon.stop() == 0


def test_a_bad_exclude_query_is_one_line(tmp_path, emotify):
    env = BeetsEnv(tmp_path, exclude="year:abc..")
    env.import_clips(pick_clips(per_genre=1)[:1])
    proc = env.beet("cluster", "-n", "2", check=False)
    assert proc.returncode != 0
    assert "bad configuration: exclude 'year:abc..'" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
