"""Decoding as a stream: samples arrive in blocks and only the windows are kept.

Neither a file's decoded samples nor its resampled ones are ever held whole, so the memory of
one track is its kept windows (bounded by the window ceiling), whatever its length.
"""

from __future__ import annotations

import numpy as np
import soxr

# Chosen by measurement (README, "Resampler"): on 5 s windows at 44.1 kHz -> 11025 Hz, HQ costs
# ~0.45 ms a window (a tenth of decoding it) and moves the features least of the cheaper
# qualities; QQ saves ~0.2 ms a window but, with no anti-alias filter, moves features by
# several standard deviations; FFmpeg's swresample costs more and moves them as far.
RESAMPLE_QUALITY = "HQ"


def window_count(samples: int, size: int, padding_threshold: float) -> int:
    """Full windows, plus the partial last one when enough of it is present."""
    full, rest = divmod(samples, size)
    return full + (1 if rest and rest >= padding_threshold * size else 0)


def spread(total: int, keep: int) -> np.ndarray:
    """Indices of `keep` windows evenly spread over `total`, first and last included."""
    return np.linspace(0, total - 1, keep).round().astype(int)


class Resampler:
    """soxr's streaming resampler: block by block, the same samples as one whole-file call."""

    def __init__(self, native_sr: int, sr: int):
        self.stream = None if native_sr == sr else soxr.ResampleStream(
            native_sr, sr, 1, dtype="float32", quality=RESAMPLE_QUALITY)

    def __call__(self, y: np.ndarray, last: bool = False) -> np.ndarray:
        if self.stream is None:
            return y
        return self.stream.resample_chunk(np.ascontiguousarray(y, np.float32), last=last)


def resampled(y: np.ndarray, native_sr: int, sr: int) -> np.ndarray:
    """One window resampled on its own (its edges see no neighbours: within a few samples)."""
    if native_sr == sr or not len(y):
        return y
    return soxr.resample(y, native_sr, sr, quality=RESAMPLE_QUALITY).astype(np.float32,
                                                                           copy=False)


class WindowSink:
    """Cuts a stream of samples into windows of `size`, as `cut_windows` cuts a whole array.

    It holds at most `limit` windows: when a stream of unknown length passes that, every other
    held window goes and from then on only every 2nd (4th, ...) one is kept, which leaves an
    even spread over the whole stream without knowing its length beforehand.
    """

    def __init__(self, size: int, limit: int):
        self.size, self.limit = size, limit
        self.held: list[np.ndarray] = []
        self.stride = 1
        self.count = 0  # windows completed so far
        self.fill = 0  # samples in the window being cut
        self.current = np.zeros(size, dtype=np.float32)

    def add(self, y: np.ndarray) -> None:
        pos = 0
        while pos < len(y):
            take = min(self.size - self.fill, len(y) - pos)
            if self.count % self.stride == 0:  # a window that will not be held is not copied
                self.current[self.fill : self.fill + take] = y[pos : pos + take]
            self.fill += take
            pos += take
            if self.fill == self.size:
                self._close_window()

    def _close_window(self) -> None:
        if self.count % self.stride == 0:
            self.held.append(self.current.copy())
            if len(self.held) > self.limit:
                self.held = self.held[::2]
                self.stride *= 2
        self.count += 1
        self.fill = 0

    def windows(self, padding_threshold: float, keep: int) -> np.ndarray:
        """The held windows (the partial last one zero-padded when enough of it is there; a
        stream shorter than one window gives one), `keep` of them evenly spread at most."""
        samples = self.count * self.size + self.fill
        if self.fill and (window_count(samples, self.size, padding_threshold) > self.count
                          or self.count == 0):
            self.current[self.fill :] = 0.0
            self._close_window()
        out = np.stack(self.held) if self.held else np.zeros((0, self.size), np.float32)
        self.held = []
        return out[spread(len(out), keep)] if len(out) > keep else out
