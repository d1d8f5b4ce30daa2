"""Faults of the disk and the store: one clear line, nothing half-written, the old set kept.

Read-only and full file systems are real tmpfs mounts where this runs as root (a container, CI
with sudo); elsewhere those tests skip, and the always-run ones fail a write for real another
way (a file size limit, SQLite's page limit, a path under a regular file).
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import BeetsEnv, copy_clips, pick_clips

from beetsplug.cluster.config import Settings
from beetsplug.cluster.errors import StoreError
from beetsplug.cluster.library import Library
from beetsplug.cluster.output.playlists import Entry, PlaylistError, write_playlists
from beetsplug.cluster.records import Track
from beetsplug.cluster.store import Analysis, Store


@pytest.fixture
def tmpfs(tmp_path):
    """mount(name, size) -> a fresh tmpfs folder; skips where mounting is not allowed."""
    mounted: list[Path] = []

    def mount(name: str, size: str = "1m") -> Path:
        point = tmp_path / name
        point.mkdir()
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", str(point)], check=True)


def remount_read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)


def fill(point: Path, leave_pages: int = 0) -> None:
    """Take all the free space of a file system but `leave_pages` blocks."""
    st = os.statvfs(point)
    with open(point / "filler", "wb") as f:
        f.write(b"\0" * ((st.f_bavail - leave_pages) * st.f_frsize))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir()) if f.name != "filler"}


def entries(folder: Path, n: int, tag: str) -> list[Entry]:
    return [Entry(folder / f"{tag}-{i:03d}.mp3", 30, f"{tag} {i}") for i in range(n)]


# -- the store ------------------------------------------------------------------------------


def rows(n: int, start: int = 0) -> list[Analysis]:
    rng = np.random.default_rng(start)
    return [Analysis(f"/m/{i:04d}.mp3", 1000 + i, 1.0, "b", "1",
                     vector=rng.standard_normal(256).astype(np.float32))
            for i in range(start, start + n)]


def test_a_store_damaged_after_its_header_is_one_store_error(tmp_path):
    path = tmp_path / "cluster.db"
    store = Store(path)
    store.save(rows(200))
    store.close()
    size = path.stat().st_size
    assert size > 8 * 4096
    with open(path, "r+b") as f:  # page 1 (header, schema) stays; the tables' pages do not
        f.seek(4096)
        f.write(np.random.default_rng(0).bytes(size - 4096))
    with pytest.raises(StoreError) as err:
        Store(path).rows("b")  # the freshness query every run starts with
    assert str(err.value) == (f"the embedding store {path} is damaged (database disk image is "
                              "malformed): move it aside and run again to re-analyse")


def test_a_full_store_is_one_store_error_and_keeps_what_was_saved(tmp_path, emotify):
    clips = copy_clips(pick_clips(per_genre=1), tmp_path / "music")
    tracks = [Track(str(p)) for p in clips]
    store = Store(tmp_path / "cluster.db")
    core = Library(Settings(workers=1, aggregate="chunk_level"), store)  # rows of ~2 KB
    assert core.analyse(tracks[:2]).analysed == 2
    # SQLite's own limit: the file cannot grow by one page, as on a full disk (SQLITE_FULL).
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count={pages}")
    with pytest.raises(StoreError, match=r"cluster\.db cannot grow \(database or disk is full\): "
                                         "free some disk space"):
        core.analyse(tracks[2:])
    store.close()
    again = Store(tmp_path / "cluster.db")
    assert sorted(again.rows("handcrafted")) == sorted(
        t.path for t in tracks[:2])
    again.close()


@pytest.mark.slow
def test_beet_cluster_on_a_damaged_store_is_one_line(tmp_path, emotify):
    env = BeetsEnv(tmp_path, workers=1)
    env.import_clips(pick_clips(per_genre=1))
    env.beet("cluster", "-n", "2")
    db = tmp_path / "cluster.db"
    with open(db, "r+b") as f:
        f.seek(4096)
        f.write(np.random.default_rng(0).bytes(db.stat().st_size - 4096))
    res = env.beet("cluster", "-n", "2", check=False)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    want = (f"error: cluster: the embedding store {db} is damaged (database disk image is "
            "malformed): move it aside and run again to re-analyse")
    assert res.stderr.strip().splitlines() == [want], res.stderr


# -- playlists ------------------------------------------------------------------------------


def test_a_write_failing_midway_leaves_the_previous_set_whole(tmp_path):
    folder = tmp_path / "lists"
    write_playlists({"a": entries(tmp_path, 3, "a"), "b": entries(tmp_path, 3, "b")}, folder)
    before = snapshot(folder)
    new = {"a": entries(tmp_path, 4, "x"), "b": entries(tmp_path, 400, "y"),
           "c": entries(tmp_path, 4, "z")}
    # The kernel refuses any file over 4 KB (EFBIG): "b" is the one that cannot be written.
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, old_limit[1]))
    try:
        with pytest.raises(PlaylistError, match=r"cannot write playlist .*b\.m3u8: File too large"):
            write_playlists(new, folder)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert snapshot(folder) == before  # byte for byte, and no temp file left


def test_a_full_disk_midway_leaves_the_previous_set_whole(tmpfs, tmp_path):
    folder = tmpfs("lists", size="256k")
    write_playlists({"a": entries(tmp_path, 3, "a"), "b": entries(tmp_path, 3, "b")}, folder)
    before = snapshot(folder)
    fill(folder, leave_pages=1)  # one more playlist fits, four do not
    new = {n: entries(tmp_path, 5, n) for n in ("p", "q", "r", "s")}
    with pytest.raises(PlaylistError, match="No space left on device"):
        write_playlists(new, folder)
    assert snapshot(folder) == before


def test_a_read_only_playlist_folder_is_one_playlist_error(tmpfs, tmp_path):
    folder = tmpfs("lists")
    write_playlists({"a": entries(tmp_path, 3, "a")}, folder)
    before = snapshot(folder)
    remount_read_only(folder)
    with pytest.raises(PlaylistError, match=r"cannot write playlist .*: Read-only file system"):
        write_playlists({"a": entries(tmp_path, 2, "b"), "c": entries(tmp_path, 2, "c")}, folder)
    assert snapshot(folder) == before


# -- a run is recorded only once its playlists are written ----------------------------------


def last_run_id(store: Store) -> int | None:
    run = store.last_run()
    return run.id if run else None


def test_a_playlist_dir_that_is_a_file_records_no_run(tmp_path, emotify):
    clips = copy_clips(pick_clips(per_genre=1), tmp_path / "music")
    tracks = [Track(str(p)) for p in clips]
    store = Store(tmp_path / "cluster.db")
    good = Library(Settings(clusters=2, workers=1, playlist_dir=tmp_path / "lists"), store)
    good.analyse(tracks)
    first = good.recluster(tracks)
    assert last_run_id(store) == first.run_id is not None
    before = snapshot(tmp_path / "lists")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = Library(Settings(clusters=3, workers=1, playlist_dir=blocker), store)
    with pytest.raises(PlaylistError):
        bad.recluster(tracks)
    assert last_run_id(store) == first.run_id
    assert snapshot(tmp_path / "lists") == before
    store.close()


@pytest.mark.slow
def test_beet_cluster_on_a_full_disk_keeps_playlists_run_and_tags(tmpfs, tmp_path, emotify):
    lists = tmpfs("lists", size="512k")
    env = BeetsEnv(tmp_path / "lib", workers=1, playlist_dir=str(lists))
    clips = env.import_clips(pick_clips(per_genre=2))
    env.beet("cluster", "-n", "2")
    before = snapshot(lists)
    tags = env.beet("ls", "-f", "$path $cluster $cluster_playlist").stdout
    mtimes = {c: c.stat().st_mtime_ns for c in clips}
    fill(lists, leave_pages=1)
    res = env.beet("cluster", "-n", "4", check=False)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    [line] = res.stderr.strip().splitlines()
    assert line.startswith(f"error: cluster: cannot write playlist {lists}/"), line
    assert line.endswith(": No space left on device"), line
    assert snapshot(lists) == before  # the previous set, whole
    with sqlite3.connect(tmp_path / "lib" / "cluster.db") as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM tracks").fetchone() == (len(clips),)
    assert env.beet("ls", "-f", "$path $cluster $cluster_playlist").stdout == tags
    assert {c: c.stat().st_mtime_ns for c in clips} == mtimes  # no file tag rewritten
