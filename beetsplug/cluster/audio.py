"""Decode a file to mono float32 at the analysis rate and cut it into fixed windows.

soundfile (libsndfile) reads MP3, FLAC, OGG and WAV in-process; for what it can't read
(M4A/AAC/ALAC/WMA, ...) we run the ffmpeg binary that the imageio-ffmpeg wheel ships.
"""

from __future__ import annotations

import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .errors import AudioError

MIN_SECONDS = 1.0
SILENCE_PEAK = 10 ** (-70 / 20)  # -70 dBFS: nothing a listener would call music
# libsndfile's MP3 frame count is an estimate; only a real shortfall means a cut-off file.
TRUNCATION_TOLERANCE = 0.98


@dataclass(frozen=True)
class Decoded:
    windows: np.ndarray  # (n_windows, window_samples) float32
    duration: float  # seconds of audio in the file


def window_cap(durations: list[float], window_seconds: float, quantile: float) -> int:
    """Windows per track: those of the library's `quantile` duration, so long tracks don't dominate."""
    known = [d for d in durations if d and d > 0]
    if not known:
        return 36
    return max(1, math.ceil(float(np.quantile(known, quantile)) / window_seconds))


def decode_windows(
    path: Path,
    sr: int,
    window_seconds: float,
    padding_threshold: float = 0.5,
    max_windows: int | None = None,
) -> Decoded:
    """The file's windows, evenly spread over the track when there are more than `max_windows`."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioError(f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise AudioError("empty file (0 bytes)")
    try:
        y, duration = _decode_soundfile(path, sr)
    except (sf.LibsndfileError, RuntimeError) as sf_exc:
        y, duration = _decode_ffmpeg(path, sr, sf_exc)
    if duration < MIN_SECONDS:
        raise AudioError(f"too short: {duration:.2f} s of audio (at least {MIN_SECONDS:g} s needed)")
    if not np.isfinite(y).all():
        raise AudioError("decoder returned invalid samples (NaN or infinity)")
    if np.abs(y).max(initial=0.0) < SILENCE_PEAK:
        raise AudioError("silent: no sample above -70 dBFS")
    windows = cut_windows(y, sr, window_seconds, padding_threshold)
    if max_windows is not None and len(windows) > max_windows:
        keep = np.linspace(0, len(windows) - 1, max_windows).round().astype(int)
        windows = windows[keep]
    return Decoded(np.ascontiguousarray(windows, dtype=np.float32), duration)


def cut_windows(y: np.ndarray, sr: int, window_seconds: float, padding_threshold: float) -> np.ndarray:
    """Fixed windows; the last, partial one is zero-padded if enough of it is present.

    A track shorter than one window still gives one (padded) window: it is real music, only short.
    """
    size = round(window_seconds * sr)
    full, rest = divmod(len(y), size)
    n = full + (1 if rest and (rest >= padding_threshold * size or full == 0) else 0)
    out = np.zeros((n, size), dtype=np.float32)
    usable = min(len(y), n * size)
    out.reshape(-1)[:usable] = y[:usable]
    return out


def _decode_soundfile(path: Path, sr: int) -> tuple[np.ndarray, float]:
    with sf.SoundFile(path) as f:
        native_sr, expected = f.samplerate, f.frames
        data = f.read(dtype="float32", always_2d=True)
    if expected > 0 and len(data) < TRUNCATION_TOLERANCE * expected:
        raise AudioError(
            f"truncated: the header promises {expected / native_sr:.1f} s, "
            f"only {len(data) / native_sr:.1f} s can be decoded"
        )
    # A matrix-vector product: ~25x faster than data.mean(axis=1) on soundfile's (n, 2) output.
    channels = data.shape[1]
    mono = data @ np.full(channels, 1.0 / channels, np.float32) if channels > 1 else data[:, 0]
    duration = len(mono) / native_sr
    if native_sr != sr and len(mono):
        mono = soxr.resample(mono, native_sr, sr, quality="HQ").astype(np.float32, copy=False)
    return mono, duration


def _decode_ffmpeg(path: Path, sr: int, sf_exc: Exception) -> tuple[np.ndarray, float]:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise AudioError(f"unsupported format (libsndfile: {_short(sf_exc)}); "
                         "install imageio-ffmpeg for M4A/AAC/ALAC/WMA") from sf_exc
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", os.fspath(path),
           "-vn", "-ac", "1", "-ar", str(sr), "-f", "f32le", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioError(f"ffmpeg failed to run: {exc}") from exc
    if proc.returncode != 0 or not proc.stdout:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError("not a readable audio file: " + (reason[-1] if reason else "no audio stream"))
    y = np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)
    return y, len(y) / sr


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
