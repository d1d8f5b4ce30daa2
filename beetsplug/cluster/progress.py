"""A progress line with rate and ETA on a terminal; a log line now and then otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .log import log


class Progress:
    def __init__(self, total: int, label: str = "Analysing", stream: TextIO | None = None):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.start = self.last = time.monotonic()
        if self.tty:  # at once: starting the worker processes takes a few seconds
            self.stream.write(self.line(self.start) + "\x1b[K")
            self.stream.flush()

    def tick(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last < (0.2 if self.tty else 30.0) and self.done < self.total:
            return
        self.last = now
        if self.tty:
            self.stream.write("\r" + self.line(now) + "\x1b[K")
            if self.done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
        else:
            log.info("{}", self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = (now or time.monotonic()) - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        return (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{rate:.1f} tracks/s ETA {_clock(eta) if rate > 0 else '--:--'}")


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
