"""Decode a file to mono float32 at the analysis rate and cut it into fixed windows.

Both decoders run in-process and seek to the kept windows: soundfile (libsndfile) for MP3,
FLAC and WAV; PyAV (FFmpeg's libraries) for what libsndfile can't read (M4A/AAC/ALAC/WMA,
...), for Ogg, and for a file libsndfile gives up on midway. Ogg goes to FFmpeg by
measurement: libsndfile 1.2's Opus decodes at a third of FFmpeg's speed and fails reading
after a seek in some files, its Vorbis costs ~20 % more per kept minute (README, "Decoding").
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import AudioError, UnreadableError
from . import av_reader
from .audio_stream import Resampler, WindowSink, resampled, spread, window_count
from .containers import truncation
from .decoder_output import decoder_output, log_decoder_output

MIN_SECONDS = 1.0
SILENCE_PEAK = 10 ** (-70 / 20)  # -70 dBFS: nothing a listener would call music
# libsndfile's MP3 frame count is an estimate; only a real shortfall means a cut-off file.
TRUNCATION_TOLERANCE = 0.98
FINGERPRINT_SECONDS = 5
# Window audio one track may keep, whatever its length: 64 MiB is 25 min of 5 s windows at
# 11025 Hz; a longer file gives that many windows, evenly spread.
MAX_WINDOW_BYTES = 64 * 2**20
BLOCK_FRAMES = 65536  # frames per read: 1.5 s at 44.1 kHz, 0.5 MiB in stereo float32


@dataclass(frozen=True)
class Decoded:
    windows: np.ndarray  # (n_windows, window_samples) float32
    duration: float  # seconds of audio in the file
    # see fingerprint(); None when libsndfile opened the file but failed midway
    fingerprint: str | None = None


FFMPEG_SUBTYPES = frozenset({"OPUS", "VORBIS"})  # libsndfile reads them, FFmpeg better


class _NotForLibsndfile(Exception):
    """libsndfile opens the file, but FFmpeg's decoder is the one to use (Ogg)."""


def window_cap(durations: list[float], window_seconds: float, quantile: float) -> int:
    """Windows per track: as many as the library's `quantile` duration holds, so long tracks
    don't dominate."""
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
    """The file's windows, evenly spread over the track when there are more than `max_windows`
    (and never more than `window_ceiling` allows, whatever the file's length).

    The file is read in blocks and only windows are kept; a long seekable file is read only
    where the kept windows are, so a three-hour mix costs no more memory than a long song.
    """
    path = Path(path)
    try:  # opened, not only stat'ed: a file without read permission is no broken audio
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise UnreadableError(f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise AudioError("empty file (0 bytes)")
    return _decode(path, sr, window_seconds, padding_threshold, max_windows)


def window_ceiling(sr: int, window_seconds: float) -> int:
    """The most windows one track keeps, whatever the cap (25 min of hand-crafted windows)."""
    return max(1, MAX_WINDOW_BYTES // (4 * round(window_seconds * sr)))


def _decode(path: Path, sr: int, window_seconds: float, padding_threshold: float,
            max_windows: int | None) -> Decoded:
    ceiling = window_ceiling(sr, window_seconds)
    keep = min(max_windows or ceiling, ceiling)
    problem = truncation(os.fsencode(path))
    if problem:
        raise AudioError(problem)
    promised = None  # seconds the header promises, when libsndfile could read the header
    try:
        with sf.SoundFile(os.fsencode(path)) as f:
            if f.subtype in FFMPEG_SUBTYPES:
                raise _NotForLibsndfile
            promised = f.frames / f.samplerate if f.frames > 0 else None
            picked = _read_picked_windows(f, sr, window_seconds, padding_threshold, keep)
            if picked is not None:
                return _checked(*picked)
            sink = WindowSink(round(window_seconds * sr), ceiling)
            duration, print_ = _stream_soundfile(f, sr, sink)
    except (sf.LibsndfileError, RuntimeError, _NotForLibsndfile) as sf_exc:
        # what soundfile gave is dropped; a file it opened but failed on has no fingerprint
        got = av_reader.read_windows(path, sr, window_seconds, padding_threshold, keep,
                                     ceiling, FINGERPRINT_SECONDS)
        if promised and got.duration < TRUNCATION_TOLERANCE * promised:  # a decode error midway
            raise AudioError(f"truncated: the header promises {promised:.1f} s, only "
                             f"{got.duration:.1f} s can be decoded") from sf_exc
        if got.duration < MIN_SECONDS:
            raise AudioError(f"too short: {got.duration:.2f} s of audio "
                             f"(at least {MIN_SECONDS:g} s needed)") from sf_exc
        return _checked(got.windows, got.duration, None if promised else got.fingerprint)
    if duration < MIN_SECONDS:
        raise AudioError(f"too short: {duration:.2f} s of audio "
                         f"(at least {MIN_SECONDS:g} s needed)")
    return _checked(sink.windows(padding_threshold, keep), duration, print_)


def _checked(windows: np.ndarray, duration: float, print_: str | None) -> Decoded:
    if not np.isfinite(windows).all():
        raise AudioError("decoder returned invalid samples (NaN or infinity)")
    if max(windows.max(initial=0.0), -windows.min(initial=0.0)) < SILENCE_PEAK:
        raise AudioError("silent: no sample above -70 dBFS")
    return Decoded(np.ascontiguousarray(windows, dtype=np.float32), duration, print_)


def _read_picked_windows(f: sf.SoundFile, sr: int, window_seconds: float,
                         padding_threshold: float,
                         max_windows: int | None) -> tuple[np.ndarray, float, str] | None:
    """Seek to and decode only the kept windows; None when the whole file is wanted anyway."""
    native_sr, frames = f.samplerate, f.frames
    size = round(window_seconds * native_sr)
    total = window_count(frames, size, padding_threshold)
    if max_windows is None or total <= max_windows or not f.seekable():
        return None
    out = np.zeros((max_windows, round(window_seconds * sr)), dtype=np.float32)
    print_ = _head_print(f)
    for row, index in enumerate(spread(total, max_windows)):
        f.seek(int(index) * size)
        data = f.read(size, dtype="float32", always_2d=True)
        wanted = min(size, frames - int(index) * size)
        if wanted - len(data) > (1 - TRUNCATION_TOLERANCE) * frames:
            raise AudioError(f"truncated: the header promises {frames / native_sr:.1f} s, "
                             f"decoding stops near {(index * size + len(data)) / native_sr:.1f} s")
        y = resampled(_mono(data), native_sr, sr)[: out.shape[1]]
        out[row, : len(y)] = y
    return out, frames / native_sr, print_


def _stream_soundfile(f: sf.SoundFile, sr: int, sink: WindowSink) -> tuple[float, str]:
    """Decode the whole file block by block into `sink`; (duration, fingerprint)."""
    native_sr, expected = f.samplerate, f.frames
    resample = Resampler(native_sr, sr)
    head_frames = FINGERPRINT_SECONDS * native_sr
    head: list[np.ndarray] = []
    block = np.empty((BLOCK_FRAMES, f.channels), dtype=np.float32)
    read = 0
    # f.blocks() would hide a short read (it yields the whole buffer): read() tells the truth.
    while len(data := f.read(BLOCK_FRAMES, dtype="float32", always_2d=True, out=block)):
        if read < head_frames:
            head.append(data[: head_frames - read].copy())
        read += len(data)
        sink.add(resample(_mono(data)))
    sink.add(resample(np.zeros(0, np.float32), last=True))
    if expected > 0 and read < TRUNCATION_TOLERANCE * expected:
        raise AudioError(
            f"truncated: the header promises {expected / native_sr:.1f} s, "
            f"only {read / native_sr:.1f} s can be decoded"
        )
    start = np.concatenate(head) if head else np.zeros((0, f.channels), np.float32)
    return read / native_sr, _print(f, start)


def _mono(data: np.ndarray) -> np.ndarray:
    # A matrix-vector product: ~25x faster than data.mean(axis=1) on soundfile's (n, 2) output.
    channels = data.shape[1]
    return data @ np.full(channels, 1.0 / channels, np.float32) if channels > 1 else data[:, 0]


def fingerprint(path: Path) -> str | None:
    """A hash of what tags never change: the stream's format and length and its first 5 s of
    decoded audio. Tells a retagged file (new size and mtime, same music) from a new one.
    Made by the decoder that decode_windows starts with; None where neither can read it."""
    with decoder_output() as said:  # libmpg123 may warn on opening: not for the terminal
        print_ = None
        try:
            with sf.SoundFile(os.fsencode(path)) as f:
                if f.subtype not in FFMPEG_SUBTYPES:
                    print_ = _head_print(f)
        except (sf.LibsndfileError, RuntimeError, OSError):
            pass
        if print_ is None:
            try:
                print_ = av_reader.fingerprint(path, FINGERPRINT_SECONDS)
            except (AudioError, OSError):
                print_ = None
    log_decoder_output(path, said)
    return print_


def _head_print(f: sf.SoundFile) -> str:
    """The fingerprint of an open file, read from its start."""
    f.seek(0)
    return _print(f, f.read(FINGERPRINT_SECONDS * f.samplerate, dtype="float32", always_2d=True))


def _print(f: sf.SoundFile, decoded_from_start: np.ndarray) -> str:
    form = f"{f.format}/{f.samplerate}/{f.channels}/{f.frames}".encode()
    head = decoded_from_start[: FINGERPRINT_SECONDS * f.samplerate]
    return hashlib.sha1(form + np.ascontiguousarray(head).tobytes()).hexdigest()


def cut_windows(y: np.ndarray, sr: int, window_seconds: float,
                padding_threshold: float) -> np.ndarray:
    """Fixed windows; the last, partial one is zero-padded if enough of it is present.

    A track shorter than one window still gives one (padded) window: it is real music, only short.
    """
    size = round(window_seconds * sr)
    n = window_count(len(y), size, padding_threshold) or (1 if len(y) else 0)
    out = np.zeros((n, size), dtype=np.float32)
    usable = min(len(y), n * size)
    out.reshape(-1)[:usable] = y[:usable]
    return out
