"""A progress line with rate and ETA on a terminal; a log line now and then otherwise.

The rate is audio decoded per second, not tracks: a library's tracks run from a minute to an
hour, and what a track costs follows the audio kept from it (its windows), so a rate in tracks
makes the ETA swing with every long track."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TextIO

from .log import log

FIRST_LOG_SECONDS = 3.0  # without a terminal: a first line soon, so a log shows the run began
LOG_EVERY_SECONDS = 30.0


@dataclass(frozen=True)
class Workload:
    """What an analysis run will do: its tracks and the audio it will decode from them."""

    tracks: int
    audio_seconds: float


class ProgressLine:
    def __init__(self, work: Workload, label: str = "Analysing", stream: TextIO | None = None):
        self.work, self.label = work, label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.tracks = 0
        self.audio = 0.0
        self.start = time.monotonic()
        self.next_line = self.start + (0.0 if self.tty else FIRST_LOG_SECONDS)
        if self.tty:  # at once: starting the worker processes takes a few seconds
            self.stream.write(self.line(self.start) + "\x1b[K")
            self.stream.flush()

    def tick(self, audio_seconds: float) -> None:
        """One more track done, `audio_seconds` of its audio decoded."""
        self.tracks += 1
        self.audio += audio_seconds
        now = time.monotonic()
        finished = self.tracks >= self.work.tracks
        if now < self.next_line and not finished:
            return
        self.next_line = now + (0.2 if self.tty else LOG_EVERY_SECONDS)
        if self.tty:
            self.stream.write("\r" + self.line(now) + "\x1b[K")
            if finished:
                self.stream.write("\n")
            self.stream.flush()
        else:
            log.info("{}", self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = (now or time.monotonic()) - self.start
        rate = self.audio / elapsed if elapsed > 0 else 0.0  # audio seconds per second
        left = max(self.work.audio_seconds - self.audio, 0.0)
        if self.tracks >= self.work.tracks:
            eta = "0:00"
        else:
            eta = _clock(left / rate) if rate > 0 else "--:--"
        width = 20
        filled = int(width * self.tracks / max(self.work.tracks, 1))
        return (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                f"{self.tracks}/{self.work.tracks} tracks, {_clock(self.audio)} of "
                f"{_clock(self.work.audio_seconds)} audio, {rate / 60:.1f} audio min/s, "
                f"ETA {eta}")


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
