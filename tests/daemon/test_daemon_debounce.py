"""The debouncer's timing contract, with real files and the real clock."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from clusterd.changes import Batch, Change
from clusterd.debounce import Debouncer

QUIET = 0.2


def write(path: Path, data: bytes = b"x" * 1000) -> Path:
    path.write_bytes(data)
    return path


def test_a_batch_comes_after_the_quiet_period(tmp_path: Path):
    deb = Debouncer(quiet=QUIET, max_wait=5.0)
    a = write(tmp_path / "a.mp3")
    t0 = time.monotonic()
    deb.push(Change("created", a))
    deb.push(Change("closed", a))
    batch = deb.next_batch(timeout=5)
    waited = time.monotonic() - t0
    assert batch == Batch(added=(a,))
    assert QUIET <= waited < QUIET + 0.5


def test_changes_that_never_stop_are_cut_at_max_wait(tmp_path: Path):
    deb = Debouncer(quiet=QUIET, max_wait=1.0)
    got: list[Batch] = []
    consumer = threading.Thread(target=lambda: got.append(deb.next_batch(timeout=5)))
    consumer.start()
    t0 = time.monotonic()
    i = 0
    while consumer.is_alive() and time.monotonic() - t0 < 5:
        deb.push(Change("created", write(tmp_path / f"{i}.mp3")))
        i += 1
        time.sleep(QUIET / 4)  # never quiet for long enough
    consumer.join()
    waited = time.monotonic() - t0
    assert got and got[0] is not None and len(got[0].added) >= 3
    assert 1.0 <= waited < 1.6


def test_a_file_with_a_writer_waits_until_it_is_closed(tmp_path: Path):
    deb = Debouncer(quiet=QUIET, max_wait=1.0, track_writers=True)
    a = write(tmp_path / "a.mp3")
    deb.push(Change("created", a))
    deb.push(Change("modified", a))
    assert deb.next_batch(timeout=4 * QUIET) is None  # past quiet and max wait: still held
    deb.push(Change("closed", a))
    assert deb.next_batch(timeout=2) == Batch(added=(a,))


def test_a_file_growing_without_events_waits_for_two_equal_looks(tmp_path: Path):
    # A polling observer on a share reports nothing between its scans.
    deb = Debouncer(quiet=QUIET, max_wait=1.0, track_writers=False)
    a = write(tmp_path / "a.mp3", b"x" * 10)
    deb.push(Change("created", a))
    time.sleep(QUIET / 2)
    write(a, b"x" * 20)
    assert deb.next_batch(timeout=QUIET) is None  # first look: size changed since the event
    assert deb.next_batch(timeout=2) == Batch(added=(a,))  # second look: unchanged


def test_an_empty_file_waits_and_a_vanished_one_is_dropped_at_settle_max(tmp_path: Path):
    deb = Debouncer(quiet=QUIET, max_wait=0.5, settle_max=0.6)
    empty = write(tmp_path / "empty.mp3", b"")
    gone = tmp_path / "gone.mp3"
    deb.push(Change("created", empty))
    deb.push(Change("created", gone))
    assert deb.next_batch(timeout=0.45) is None
    assert deb.next_batch(timeout=2) == Batch(added=(empty,))  # handed over after settle_max
    assert len(deb) == 0


def test_stop_wakes_a_waiting_consumer(tmp_path: Path):
    deb = Debouncer(quiet=QUIET, max_wait=1.0)
    deb.push(Change("modified", write(tmp_path / "a.mp3")))
    deb.push(Change("modified", tmp_path / "a.mp3"))  # writer still active: never due
    result: list[object] = ["unset"]
    consumer = threading.Thread(target=lambda: result.__setitem__(0, deb.next_batch()))
    consumer.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    deb.stop()
    consumer.join(2)
    assert not consumer.is_alive() and result[0] is None
    assert time.monotonic() - t0 < 0.5


def test_bad_timings_are_refused():
    with pytest.raises(ValueError):
        Debouncer(quiet=2.0, max_wait=1.0)
