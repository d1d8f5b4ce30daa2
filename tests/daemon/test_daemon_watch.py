"""The watcher end to end in-process: a real inotify observer on temp folders, real clips."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from clusterd.changes import Change
from clusterd.service import DaemonOptions, Service
from conftest import copy_clips, pick_clips
from fake_core import RecordedError, RecordingHandler

QUIET = 0.25


pytestmark = pytest.mark.usefixtures("no_thread_leaks")


class SizedHandler(RecordingHandler):
    """Also notes each file's size at the moment the core would read it."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sizes: list[tuple[str, int]] = []

    def added(self, paths):
        self.sizes += [(str(p), os.path.getsize(p)) for p in paths]
        return super().added(paths)


@pytest.fixture
def music(tmp_path: Path) -> Path:
    root = tmp_path / "music"
    root.mkdir()
    return root


@pytest.fixture
def run(music: Path):
    started: list[Service] = []

    def start(handler: RecordingHandler, **opts) -> Service:
        opts = {"quiet_seconds": QUIET, "max_wait_seconds": 3.0, **opts}
        svc = Service(DaemonOptions(roots=(music,), **opts), handler, errors=(RecordedError,))
        svc.start()
        started.append(svc)
        assert handler.wait_for(lambda calls: any(m == "catch_up" for m, _ in calls), 5)
        return svc

    yield start
    for svc in started:
        svc.stop()


def test_a_burst_of_copies_becomes_one_batch(run, music):
    handler = RecordingHandler()
    svc = run(handler)
    seen: list[Change] = []
    push = svc.events.sink

    def counting(change: Change) -> None:
        seen.append(change)
        push(change)

    svc.events.sink = counting
    # 24 clips copied side by side in 8 pieces each (inotify merges back-to-back duplicates).
    clips = pick_clips(per_genre=6)
    datas = [clip.read_bytes() for clip in clips]
    copies = [music / clip.name for clip in clips]
    files = [open(target, "wb") for target in copies]  # noqa: SIM115 - closed below
    for i in range(8):
        for f, data in zip(files, datas):
            f.write(data[i * len(data) // 8 : (i + 1) * len(data) // 8])
            f.flush()
    for f in files:
        f.close()
    assert handler.wait_for(lambda calls: len(handler.of("added")) >= len(copies), 10)
    time.sleep(3 * QUIET)  # anything late would show up as a second batch
    assert len(seen) >= 100, f"only {len(seen)} events: not a burst"
    # one batch, each copy in it once (the worker hands the core one file a call)
    assert sorted(handler.of("added")) == sorted(str(p) for p in copies)
    assert svc.worker.batches == 1


def test_a_half_copied_file_waits_and_arrives_once_complete(run, music):
    handler = SizedHandler()
    run(handler)
    clip = pick_clips(per_genre=1)[0]
    data = clip.read_bytes()
    target = music / "slow.mp3"
    with open(target, "wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        time.sleep(6 * QUIET)  # far longer than the quiet period: a stalled download
        assert handler.of("added") == []
        f.write(data[len(data) // 2 :])
    assert handler.wait_for(lambda calls: handler.of("added"), 5)
    time.sleep(3 * QUIET)
    assert handler.sizes == [(str(target), len(data))]


def test_a_rename_arrives_as_a_move(run, music):
    (a,) = copy_clips(pick_clips(per_genre=1)[:1], music)
    handler = RecordingHandler()
    run(handler)
    b = a.with_name("renamed.mp3")
    a.rename(b)
    assert handler.wait_for(lambda calls: handler.of("moved"), 5)
    time.sleep(2 * QUIET)
    assert handler.of("moved") == [[str(a), str(b)]]
    assert handler.of("added") == [] and handler.of("removed") == []


def test_a_folder_move_moves_every_file_in_it(run, music):
    files = copy_clips(pick_clips(per_genre=1), music / "old")
    handler = RecordingHandler()
    run(handler)
    (music / "old").rename(music / "new")
    assert handler.wait_for(lambda calls: len(handler.of("moved")) >= len(files), 5)
    time.sleep(2 * QUIET)
    expected = sorted([str(f), str(music / "new" / f.relative_to(music / "old"))] for f in files)
    assert sorted(handler.of("moved")) == expected
    assert handler.of("added") == []


def test_a_delete_arrives_as_a_removal(run, music):
    (a,) = copy_clips(pick_clips(per_genre=1)[:1], music)
    handler = RecordingHandler()
    run(handler)
    a.unlink()
    assert handler.wait_for(lambda calls: handler.of("removed"), 5)
    assert handler.of("removed") == [str(a)]


def test_hidden_and_temporary_files_are_ignored(run, music):
    clip = pick_clips(per_genre=1)[0]
    handler = RecordingHandler()
    run(handler)
    (music / ".hidden").mkdir()
    shutil.copyfile(clip, music / ".hidden" / "a.mp3")
    shutil.copyfile(clip, music / ".~tmp.mp3")
    shutil.copyfile(clip, music / "notes.txt")
    shutil.copyfile(clip, music / "song.mp3.part")
    (music / "song.mp3.part").rename(music / "song.mp3")  # a download finishing
    assert handler.wait_for(lambda calls: handler.of("added"), 5)
    time.sleep(3 * QUIET)
    assert handler.of("added") == [str(music / "song.mp3")]


def test_one_bad_file_is_logged_and_the_rest_go_on(run, music, caplog):
    handler = RecordingHandler(fail_on="rock")
    svc = run(handler)
    copies = copy_clips(pick_clips(per_genre=2), music)
    assert handler.wait_for(lambda calls: len(handler.of("added") + handler.of("failed")) >= 8, 10)
    assert sorted(handler.of("failed")) == sorted(str(p) for p in copies if "rock" in str(p))
    assert svc.worker.is_alive() and svc.worker.failure is None
    assert "cannot analyse" in caplog.text
    shutil.copyfile(copies[0], music / "later.mp3")  # still listening after the failures
    assert handler.wait_for(lambda calls: str(music / "later.mp3") in handler.of("added"), 5)


def test_recluster_after_n_new_tracks(run, music):
    handler = RecordingHandler()
    run(handler, recluster_after=3)
    copy_clips(pick_clips(per_genre=1), music)  # 4 tracks
    assert handler.wait_for(lambda calls: any(m == "recluster" for m, _ in calls), 10)
    time.sleep(3 * QUIET)
    methods = [m for m, _ in handler.calls]
    assert methods.count("recluster") == 1 and len(handler.of("added")) == 4


def test_stop_finishes_the_file_in_hand_flushes_and_joins(music):
    handler = RecordingHandler(delay=0.5)
    svc = Service(DaemonOptions(roots=(music,), quiet_seconds=QUIET, max_wait_seconds=3.0), handler)
    svc.start()
    copy_clips(pick_clips(per_genre=2), music)  # 8 files at 0.5 s each
    assert handler.wait_for(lambda calls: handler.of("added"), 10)
    t0 = time.monotonic()
    svc.stop()
    took = time.monotonic() - t0
    assert took < 2.0, f"stop took {took:.2f} s"
    assert 1 <= len(handler.of("added")) < 8
    assert [m for m, _ in handler.calls][-2:] == ["flush", "close"]
    assert not svc.worker.is_alive() and not svc.observer.is_alive()


def test_the_polling_observer_sees_copies_renames_and_deletes(run, music):
    (a,) = copy_clips(pick_clips(per_genre=1)[:1], music)
    handler = RecordingHandler()
    svc = run(handler, poll=True, poll_interval=0.2)
    assert not svc.debouncer.track_writers  # no close events when polling
    b = a.with_name("renamed.mp3")
    a.rename(b)
    new = music / "new.mp3"
    shutil.copyfile(b, new)
    assert handler.wait_for(lambda calls: handler.of("moved") and handler.of("added"), 5)
    b.unlink()
    assert handler.wait_for(lambda calls: handler.of("removed"), 5)
    assert handler.of("moved") == [[str(a), str(b)]]
    assert handler.of("added") == [str(new)]
    assert handler.of("removed") == [str(b)]
