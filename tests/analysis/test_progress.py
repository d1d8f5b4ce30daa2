from __future__ import annotations

import io
import logging

from beetsplug.cluster import progress
from beetsplug.cluster.progress import ProgressLine, Workload


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_line_appears_at_once_and_ends_with_a_newline():
    out = Terminal()
    bar = ProgressLine(Workload(3, 600.0), "analysing", stream=out)
    assert "0/3" in out.getvalue() and "ETA --:--" in out.getvalue()
    for _ in range(3):
        bar.tick(200.0)
    last = out.getvalue().split("\r")[-1]
    assert "3/3" in last and "#" * 20 in last and out.getvalue().endswith("\n")


def test_not_a_terminal_writes_nothing_to_the_stream():
    out = io.StringIO()
    bar = ProgressLine(Workload(2, 60.0), stream=out)
    bar.tick(30.0)
    bar.tick(30.0)
    assert out.getvalue() == ""


def test_the_eta_follows_the_audio_left_not_the_tracks_left(monkeypatch):
    """One long track done of three: two short ones are left, not two thirds of the work."""
    clock = iter([100.0, 110.0, 110.0])  # start, the tick, the line
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    bar = ProgressLine(Workload(3, 1200.0), stream=Terminal())
    bar.tick(1000.0)  # 1000 s of audio in 10 s: 100 audio s/s, 200 s of audio left
    assert "1/3 tracks" in bar.line(110.0) and "ETA 0:02" in bar.line(110.0)


def test_without_a_terminal_the_first_line_comes_within_seconds(monkeypatch, caplog):
    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    bar = ProgressLine(Workload(100, 100 * 240.0), stream=io.StringIO())
    with caplog.at_level(logging.INFO, logger="beets.cluster"):
        now[0] = 1.0
        bar.tick(240.0)
        assert not caplog.records  # not for every track
        now[0] = progress.FIRST_LOG_SECONDS + 0.5
        bar.tick(240.0)
        assert len(caplog.records) == 1 and "2/100 tracks" in caplog.records[0].getMessage()
        now[0] += progress.LOG_EVERY_SECONDS / 2
        bar.tick(240.0)
        assert len(caplog.records) == 1  # then every LOG_EVERY_SECONDS
