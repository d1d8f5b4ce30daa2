"""`beet cluster` with nothing changed: the last run stands (issue 20). Through the real command
on a real beets library of real clips (tags written into the files): an unchanged run writes no
playlist, tag or run; a track added, removed or re-analysed, another k or method, --rename, a
deleted playlist file each cluster again."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from conftest import BeetsEnv, pick_clips

pytestmark = pytest.mark.slow

STANDS = "nothing changed since run"


@pytest.fixture(scope="module")
def env(tmp_path_factory, emotify) -> BeetsEnv:
    """Eight clips, analysed and clustered once (k=3)."""
    env = BeetsEnv(tmp_path_factory.mktemp("unchanged"))
    env.import_clips(pick_clips(per_genre=2))
    res = env.beet("cluster", "-n", "3")
    assert "8 analysed" in res.stdout and STANDS not in res.stdout, res.stdout
    return env


def runs(env: BeetsEnv) -> int:
    with sqlite3.connect(env.root / "cluster.db") as db:
        return db.execute("SELECT count(*) FROM runs").fetchone()[0]


def written(env: BeetsEnv) -> dict:
    """What a run writes: the playlist files (their bytes and mtimes), the audio files' mtimes
    (a tag write changes them), the beets database's cluster fields, and the run rows."""
    with sqlite3.connect(env.root / "library.db") as db:
        fields = sorted(db.execute("SELECT entity_id, key, value FROM item_attributes "
                                   "WHERE key LIKE 'cluster%'").fetchall())
    return {"playlists": {f.name: (f.read_bytes(), f.stat().st_mtime_ns)
                          for f in env.playlists.iterdir()},
            "audio": {f: f.stat().st_mtime_ns for f in env.music.rglob("*.mp3")},
            "fields": fields, "runs": runs(env)}


def cluster(env: BeetsEnv, *args: str) -> str:
    res = env.beet("cluster", *args)
    assert "Traceback" not in res.stderr, res.stderr
    return res.stdout


def test_an_unchanged_run_stands_and_writes_nothing(env):
    cluster(env, "-n", "3")  # the fixture's run may predate a digest-less record: settle
    before = written(env)
    out = cluster(env, "-n", "3")
    assert STANDS in out, out
    assert written(env) == before
    # its summary is the run's: three playlist files listing the eight tracks
    rows = [ln for ln in out.splitlines() if ln.rstrip().endswith(".m3u8")]
    assert len(rows) == 3 and sum(int(ln.split()[1]) for ln in rows) == 8, out
    assert "0 tracks changed cluster" in out


@pytest.mark.parametrize("change", ["k", "method", "rename", "playlist deleted"])
def test_another_option_or_a_lost_playlist_clusters_again(env, change):
    cluster(env, "-n", "3")
    before = runs(env)
    if change == "playlist deleted":
        next(env.playlists.glob("*.m3u8")).unlink()
    args = {"k": ["-n", "4"], "method": ["-n", "3", "-m", "agglomerative"],
            "rename": ["-n", "3", "--rename"]}.get(change, ["-n", "3"])
    out = cluster(env, *args)
    assert STANDS not in out, out
    assert runs(env) == before + 1
    assert len(list(env.playlists.glob("*.m3u8"))) == (4 if change == "k" else 3)
    # and then, unchanged, it stands (--rename itself always runs: renaming is its point)
    again = cluster(env, *(["-n", "3"] if change == "rename" else args))
    assert STANDS in again and runs(env) == before + 1, again


def test_a_track_added_removed_or_analysed_again_clusters_again(env):
    cluster(env, "-n", "3")
    before = runs(env)

    (added,) = env.import_clips(pick_clips(per_genre=1, offset=5)[:1])
    out = cluster(env, "-n", "3")
    assert STANDS not in out and "1 analysed" in out, out
    assert runs(env) == before + 1 and any(added.name in f.read_text()
                                           for f in env.playlists.glob("*.m3u8"))

    env.beet("rm", "-d", "-f", f"path:{added}")  # out of beets and off the disk
    out = cluster(env, "-n", "3")
    assert STANDS not in out and runs(env) == before + 2, out
    assert not any(added.name in f.read_text() for f in env.playlists.glob("*.m3u8"))

    # other music at the same path (the tags stay beets'): analysed again, clustered again
    victim = min(env.music.rglob("*.mp3"))
    other = pick_clips(per_genre=1, offset=6)[-1]
    shutil.copyfile(other, victim)
    out = cluster(env, "-n", "3")
    assert STANDS not in out and "1 analysed" in out and runs(env) == before + 3, out
    assert STANDS in cluster(env, "-n", "3") and runs(env) == before + 3


def test_a_query_is_its_own_input(env, tmp_path):
    cluster(env, "-n", "3")
    before = runs(env)
    folder = min(p for p in env.music.iterdir() if p.is_dir() and p != env.playlists)
    out = cluster(env, "-n", "2", f"path:{folder}")
    assert STANDS not in out and runs(env) == before + 1, out
    out = cluster(env, "-n", "2", f"path:{folder}")  # the same query again: it stands
    assert STANDS in out and runs(env) == before + 1, out
    out = cluster(env, "-n", "3")  # the whole library again: the query's tags were cleared
    assert STANDS not in out and runs(env) == before + 2, out


def test_another_backends_run_since_clusters_again(env):
    """A run of another backend wrote the same playlist folder and the tags since: the last
    hand-crafted run no longer stands, though its own inputs are unchanged. (The other run is
    a row in the store, as a musicnn run leaves one: musicnn itself would take minutes.)"""
    cluster(env, "-n", "3")
    before = runs(env)
    with sqlite3.connect(env.root / "cluster.db") as db:
        db.execute("INSERT INTO runs (created, backend, version, k, method, aggregate, params) "
                   "VALUES (0, 'musicnn', 'other', 3, 'kmeans', 'mean', '{}')")
    out = cluster(env, "-n", "3")
    assert STANDS not in out and runs(env) == before + 2, out
    assert STANDS in cluster(env, "-n", "3")
