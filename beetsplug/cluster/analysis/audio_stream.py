"""Decoding as a stream: samples arrive in blocks and only the windows are kept.

Neither a file's decoded samples nor its resampled ones are ever held whole, so the memory of
one track is its kept windows (bounded by the window ceiling), whatever its length.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np
import soxr

from ..errors import AudioError

FFMPEG_TIMEOUT = 600  # seconds for one file
CHUNK_BYTES = 1 << 20


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
        self.stream = (None if native_sr == sr
                       else soxr.ResampleStream(native_sr, sr, 1, dtype="float32", quality="HQ"))

    def __call__(self, y: np.ndarray, last: bool = False) -> np.ndarray:
        if self.stream is None:
            return y
        return self.stream.resample_chunk(np.ascontiguousarray(y, np.float32), last=last)


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


def stream_ffmpeg(path: Path, sr: int, sink: WindowSink, sf_exc: Exception) -> float:
    """Decode with the ffmpeg binary of imageio-ffmpeg, mono at `sr`, into `sink`; the
    duration. Its output is read in chunks as it comes, never held whole."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise AudioError(f"unsupported format (libsndfile: {_short(sf_exc)}); "
                         "install imageio-ffmpeg for M4A/AAC/ALAC/WMA") from sf_exc
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", os.fspath(path),
           "-vn", "-ac", "1", "-ar", str(sr), "-f", "f32le", "-"]
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=err)
        except OSError as exc:
            raise AudioError(f"ffmpeg failed to run: {exc}") from exc
        timed_out = threading.Event()
        timer = threading.Timer(FFMPEG_TIMEOUT, lambda: (timed_out.set(), proc.kill()))
        timer.start()
        samples, rest = 0, b""
        try:
            while chunk := proc.stdout.read(CHUNK_BYTES):
                data = rest + chunk
                usable = len(data) - len(data) % 4
                sink.add(np.frombuffer(data[:usable], dtype="<f4").astype(np.float32))
                samples += usable // 4
                rest = data[usable:]
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:  # interrupted: leave no ffmpeg behind
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if timed_out.is_set():
            raise AudioError(f"ffmpeg failed to run: timed out after {FFMPEG_TIMEOUT} s")
        if code != 0 or not samples:
            err.seek(0)
            reason = err.read().decode(errors="replace").strip().splitlines()
            raise AudioError("not a readable audio file: "
                             + (reason[-1] if reason else "no audio stream"))
    return samples / sr


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
