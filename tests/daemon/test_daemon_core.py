"""The daemon with the real core: a real beets library, real clips, a real observer, a real store.

One library is built once per module (`beet import` + `beet cluster -n 4` over 20 clips) and
copied for each test, with its store's absolute paths rewritten to the copy.
"""

# ruff: noqa: F811  (the fixtures imported from daemon_helpers are test arguments here)
from __future__ import annotations

import os
import signal
import sqlite3
import time

import mutagen
import pytest
from conftest import copy_clips, pick_clips
from daemon_helpers import (  # noqa: F401  (template, library, daemons: fixtures)
    OPTIONS,
    Daemon,
    assigned,
    check_whole,
    daemons,
    first,
    library,
    library_copy,
    listed,
    members,
    playlist_of,
    rows,
    template,
    wait_until,
)

pytestmark = pytest.mark.slow


def test_new_clips_are_placed_tagged_and_listed_once(library, daemons):
    daemons(library)
    before = listed(library)
    new = copy_clips(pick_clips(per_genre=2, offset=5), library.music / "incoming")
    copied = time.time()
    wait_until(lambda: all(str(p) in listed(library) for p in new), 30, "8 new playlist lines")
    latency = max(f.stat().st_mtime for f in library.playlists.glob("*.m3u8")) - copied
    print(f"\nlatency, last copy -> last playlist write, 8 clips: {latency:.2f} s")
    assert latency < 10, f"{latency:.1f} s (target: under 5 s)"

    after = listed(library)
    assert sorted(after) == sorted(before + [str(p) for p in new])  # each exactly once
    for path in new:
        number, name = assigned(library, path)
        assert playlist_of(library, path) == name
        tags = mutagen.File(path)
        assert tags["TXXX:CLUSTER_PLAYLIST"].text == [name]
        assert tags["TXXX:CLUSTER"].text == [str(number)]
    stored = rows(library)
    time.sleep(1.5)  # our own tag writes come back as events: they must not start a new round
    assert rows(library) == stored
    assert all(stored[str(p)][1] is None for p in new)


def test_rename_delete_and_a_corrupt_file(library, daemons):
    daemon = daemons(library)
    old = first(library, "rock")
    name, stamp = playlist_of(library, old), rows(library)[str(old)]
    new = old.with_name("renamed.mp3")
    old.rename(new)
    wait_until(lambda: str(new) in listed(library), 10, "the renamed line", daemon)
    assert str(old) not in listed(library) and playlist_of(library, new) == name
    assert rows(library)[str(new)] == stamp  # the same row: not decoded again
    assert str(old) not in rows(library)

    gone = first(library, "pop")
    gone.unlink()
    wait_until(lambda: str(gone) not in listed(library), 10, "the deleted line to go", daemon)
    assert str(gone) not in rows(library)

    bad = library.music / "bad.mp3"
    bad.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + os.urandom(20_000))
    wait_until(lambda: str(bad) in rows(library), 10, "the corrupt file's row", daemon)
    assert rows(library)[str(bad)][1], "recorded with its error"
    (good,) = copy_clips(pick_clips(per_genre=1, offset=9)[:1], library.music / "later")
    wait_until(lambda: str(good) in listed(library), 10, "a good file after the bad", daemon)
    assert str(bad) not in listed(library) and daemon.proc.poll() is None


def test_sigterm_during_a_batch_leaves_a_valid_store_and_whole_playlists(library, daemons):
    daemon = daemons(library, "beets", "clusterd")  # the `beet clusterd` front end this time
    new = copy_clips(pick_clips(per_genre=3, offset=5), library.music / "incoming")
    wait_until(lambda: any(str(p) in listed(library) for p in new), 30, "a first line", daemon)
    t0 = time.monotonic()
    assert daemon.stop() == 0
    print(f"\nSIGTERM -> exit 0 in {time.monotonic() - t0:.2f} s")
    assert sum(str(p) in listed(library) for p in new) < len(new), "stopped mid-batch"
    check_whole(library)


def test_restart_after_kill_9_loses_nothing_and_duplicates_nothing(library, daemons):
    daemon = daemons(library)
    new = copy_clips(pick_clips(per_genre=2, offset=5), library.music / "incoming")
    wait_until(lambda: any(str(p) in listed(library) for p in new), 30, "a first line", daemon)
    daemon.stop(signal.SIGKILL)
    # While it is down: a file moves, another is deleted.
    moved_from = first(library, "classical")
    stamp = rows(library)[str(moved_from)]
    moved_to = library.music / "elsewhere" / "moved.mp3"
    moved_to.parent.mkdir()
    moved_from.rename(moved_to)
    deleted = first(library, "electronic")
    deleted.unlink()

    restarted = daemons(library)
    on_disk = sorted(str(p) for p in library.music.rglob("*.mp3"))
    wait_until(lambda: sorted(listed(library)) == on_disk, 30, "every file listed", restarted)
    assert len(listed(library)) == len(set(listed(library))) == 27  # 20 + 8 - 1, once each
    assert sorted(rows(library)) == on_disk
    assert rows(library)[str(moved_to)] == stamp  # adopted by size+mtime, not decoded
    check_whole(library)


def test_import_new_adds_unknown_files_to_beets(template, tmp_path, daemons):
    env = library_copy(template, tmp_path / "lib", import_new=True)
    daemon = daemons(env)
    (clip,) = copy_clips(pick_clips(per_genre=1, offset=7)[:1], env.music / "incoming")
    wait_until(lambda: str(clip) in listed(env), 15, "the new line", daemon)
    number, name = assigned(env, clip)
    assert playlist_of(env, clip) == name
    out = env.beet("ls", "-f", "$cluster $path", f"path:{clip}").stdout.split()
    assert out == [str(number), str(clip)]


def test_recluster_after_two_new_tracks(template, tmp_path, daemons):
    env = library_copy(template, tmp_path / "lib", recluster_after=2)
    daemon = daemons(env)
    copy_clips(pick_clips(per_genre=1, offset=6)[:2], env.music / "incoming")
    wait_until(lambda: "reclustered" in daemon.text(), 30, "a recluster", daemon)
    with sqlite3.connect(env.root / "cluster.db") as db:
        assert db.execute("SELECT count(*), max(k) FROM runs").fetchone() == (2, 4)  # k kept
    assert sorted(listed(env)) == sorted(str(p) for p in env.music.rglob("*.mp3"))  # 22, once
    where = {path: name for name, paths in members(env).items() for path in paths}
    out = env.beet("ls", "-f", "$cluster_playlist|$path").stdout.splitlines()
    assert len(out) == 20 and all(where[p] == name for name, p in (ln.split("|") for ln in out))
