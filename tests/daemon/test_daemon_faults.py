"""The real daemon process meeting ordinary accidents (issue 18): a playlist folder it cannot
write, the playlist folder or the store deleted under it, a second daemon, a bad reload, `-v`.

Same library as tests/daemon/test_daemon_core.py (20 real clips imported and clustered once per
module, copied per test); every check is on the files, the store and the log the process leaves.
"""

# ruff: noqa: F811  (the fixtures imported from daemon_helpers are test arguments here)
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import mutagen
import pytest
from conftest import REPO, BeetsEnv, copy_clips, pick_clips
from daemon_helpers import (  # noqa: F401  (template, library, daemons: fixtures)
    OPTIONS,
    assigned,
    check_whole,
    daemons,
    library,
    listed,
    playlist_of,
    template,
    wait_until,
)

pytestmark = pytest.mark.slow

# Root ignores file modes; without these capabilities a read-only folder is read-only to it.
NO_OVERRIDE = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all")


def new_clip(env: BeetsEnv, offset: int, folder: str = "incoming") -> Path:
    """One clip that is not in the library yet, copied in (a file beets does not know)."""
    (clip,) = copy_clips(pick_clips(per_genre=1, offset=offset)[:1], env.music / folder)
    return clip


def on_disk(env: BeetsEnv) -> list[str]:
    return sorted(str(p) for p in env.music.rglob("*.mp3"))


def extinf(env: BeetsEnv, path: Path) -> str:
    """The #EXTINF line above a file's entry in its playlist."""
    name = playlist_of(env, path)
    lines = (env.playlists / f"{name}.m3u8").read_text().splitlines()
    rel = os.path.relpath(path, env.playlists)
    return lines[lines.index(rel) - 1]


def placed(env: BeetsEnv, *paths: Path) -> bool:
    """Listed and recorded (the line is written first, then the store records it)."""
    return set(map(str, paths)) <= set(listed(env)) and all(assigned(env, p) for p in paths)


def stored(env: BeetsEnv) -> set[str] | None:
    """The paths the store holds, read-only (a plain connect would create a deleted store)."""
    try:
        with sqlite3.connect(f"file:{env.root / 'cluster.db'}?mode=ro", uri=True) as db:
            return {os.fsdecode(p) for (p,) in db.execute("SELECT path FROM tracks")}
    except sqlite3.OperationalError:
        return None


def test_a_line_that_cannot_be_written_is_not_recorded_and_is_retried(library, daemons):
    folder = library.playlists
    folder.chmod(0o555)
    try:
        daemon = daemons(library, prefix=NO_OVERRIDE)
        first = new_clip(library, 5)
        wait_until(lambda: f"{first}: not placed" in daemon.text(), 20, "the failure", daemon)
        assert assigned(library, first) is None, "recorded as placed without its line"
        assert str(first) not in listed(library)
        assert "TXXX:CLUSTER_PLAYLIST" not in mutagen.File(first)
        # The fault clears; the next event places the new file and the one that failed.
        folder.chmod(0o755)
        second = new_clip(library, 6)
        wait_until(lambda: placed(library, first, second), 20, "both placed", daemon)
        for path in (first, second):
            assert assigned(library, path)[1] == playlist_of(library, path)
            assert mutagen.File(path)["TXXX:CLUSTER_PLAYLIST"].text == [assigned(library, path)[1]]

        # A failure while the daemon stops is placed by the next start's catch-up.
        folder.chmod(0o555)
        third = new_clip(library, 7)
        wait_until(lambda: f"{third}: not placed" in daemon.text(), 20, "the failure", daemon)
        assert daemon.stop() == 0
    finally:
        folder.chmod(0o755)
    daemons(library, prefix=NO_OVERRIDE)  # returns once its catch-up is done
    assert playlist_of(library, third) == assigned(library, third)[1]
    assert sorted(listed(library)) == on_disk(library)  # each file once
    check_whole(library)


def test_a_users_playlist_of_the_same_name_is_left_alone_and_the_file_placed_later(
        library, daemons):
    daemon = daemons(library)
    ours = {f: f.read_bytes() for f in library.playlists.glob("*.m3u8")}
    for f in ours:  # the user's own lists, under the names ours have
        f.write_text("#EXTM3U\nmine.mp3\n")
    clip = new_clip(library, 5)
    wait_until(lambda: f"{clip}: not placed" in daemon.text(), 20, "the refusal", daemon)
    assert assigned(library, clip) is None
    assert all(f.read_text() == "#EXTM3U\nmine.mp3\n" for f in ours)
    for f, text in ours.items():  # the user moves theirs away; ours come back
        f.write_bytes(text)
    other = new_clip(library, 6)
    wait_until(lambda: placed(library, clip, other), 20, "both placed", daemon)
    assert sorted(listed(library)) == on_disk(library)


def test_a_deleted_playlist_folder_is_written_whole_again(library, daemons):
    daemon = daemons(library)
    shutil.rmtree(library.playlists)
    clip = new_clip(library, 5)  # beets does not know it: its length comes from the decoder
    wait_until(lambda: library.playlists.is_dir() and str(clip) in listed(library), 20,
               "the new line", daemon)
    assert sorted(listed(library)) == on_disk(library)  # the 20 others too, each once
    assert extinf(library, clip).startswith("#EXTINF:30,"), extinf(library, clip)
    assert daemon.stop() == 0

    shutil.rmtree(library.playlists)  # deleted while the daemon is down: the catch-up
    daemons(library)
    assert sorted(listed(library)) == on_disk(library)
    check_whole(library)


def test_a_deleted_store_is_noticed_once_and_reopened(library, daemons):
    daemon = daemons(library)
    (library.root / "cluster.db").unlink()
    clips = copy_clips(pick_clips(per_genre=1, offset=5)[:3], library.music / "incoming")
    wait_until(lambda: {str(c) for c in clips} <= (stored(library) or set()), 30,
               "the new store's rows", daemon)
    time.sleep(0.5)  # the last file's log lines
    text = daemon.text()
    assert text.count("was deleted while clusterd ran") == 1
    assert text.count("new files wait for `beet cluster`") == 1, text[-2000:]
    assert not any(str(c) in listed(library) for c in clips)  # no run to place by
    assert daemon.proc.poll() is None


def test_a_second_daemon_refuses_and_beet_cluster_still_runs(library, daemons):
    daemon = daemons(library)
    env = {**os.environ, "BEETSDIR": str(library.config_dir),
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")])}
    t0 = time.monotonic()
    second = subprocess.run([sys.executable, "-m", "clusterd"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    print(f"\nthe second daemon refused in {time.monotonic() - t0:.2f} s")
    assert second.returncode != 0
    assert len(second.stderr.strip().splitlines()) == 1, second.stderr
    assert "already watches the store" in second.stderr
    assert library.beet("cluster", "-n", "4").returncode == 0
    clip = new_clip(library, 5)
    wait_until(lambda: str(clip) in listed(library), 20, "the new line", daemon)
    with sqlite3.connect(library.root / "cluster.db") as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (2,)
    assert sorted(listed(library)) == on_disk(library)


def test_a_reload_keeps_the_old_config_unless_the_new_one_is_good(library, daemons, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    daemon = daemons(library, extra_env={"HOME": str(home)})
    config = library.config_dir / "config.yaml"
    good = config.read_text()

    config.write_text(good + "cluster: [unclosed\n")  # does not parse
    daemon.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload failed, keeping the old configuration" in daemon.text(), 10,
               "the failed reload", daemon)
    first = new_clip(library, 5)
    wait_until(lambda: str(first) in listed(library), 20, "a line after it", daemon)

    config.unlink()  # gone: beets' defaults would point at ~/Music
    daemon.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload refused" in daemon.text(), 10, "the refused reload", daemon)
    second = new_clip(library, 6)
    wait_until(lambda: str(second) in listed(library), 20, "a line after it", daemon)
    assert not (home / "Music").exists()

    config.write_text(good.replace("cluster:\n", f"cluster:\n  playlist_dir: {tmp_path}/pl\n"))
    daemon.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: daemon.text().count("reload refused") == 2, 10, "a refusal", daemon)
    assert "the playlist folder" in daemon.text().splitlines()[-1]

    config.write_text(good)  # a good config is taken, and the real core runs on it
    daemon.proc.send_signal(signal.SIGHUP)
    third = new_clip(library, 7)
    wait_until(lambda: str(third) in listed(library), 20, "a line after it", daemon)
    assert daemon.text().count("reloading configuration") == 4
    assert daemon.text().count("reload refused") == 2
    assert daemon.stop() == 0
    assert sorted(listed(library)) == on_disk(library)


def test_verbose_logs_the_daemon_and_no_third_party_debug(library, daemons):
    daemon = daemons(library, "clusterd", "-v")
    clip = new_clip(library, 5)
    wait_until(lambda: str(clip) in listed(library), 20, "the new line", daemon)
    assert daemon.stop() == 0
    lines = daemon.text().splitlines()
    assert any(" DEBUG clusterd." in ln for ln in lines)  # -v shows the daemon's own
    noisy = [ln for ln in lines if " DEBUG " in ln and " DEBUG clusterd" not in ln
             and " DEBUG beets" not in ln]
    assert not noisy, f"{len(noisy)} of {len(lines)} lines, e.g. {noisy[:2]}"
