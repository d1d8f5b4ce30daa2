"""Decoding in-process with FFmpeg's libraries (PyAV) for what libsndfile can't read well:
M4A/AAC/ALAC/WMA and Ogg Opus, and any file libsndfile gives up on midway.

A seekable file with a known length is read only where its kept windows are: one seek a
window, a short pre-roll decoded before it and dropped (an AAC or Opus frame needs the one
before it), then exactly the window's samples by their timestamps. What the demuxer gives
before the pre-roll (an Ogg seek lands on a page start, up to a second early) is not decoded.
A stereo Opus stream is decoded to mono there (FFmpeg then adds the channels before its one
inverse MDCT: the same (L+R)/2, within float rounding, for less work). A file that can't seek
(or whose length isn't known up front) is decoded as a stream into a WindowSink, as the
whole-file path of libsndfile does: slower, the same windows.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ..errors import AudioError
from .audio_stream import Resampler, WindowSink, resampled, spread, window_count

PREROLL_SECONDS = 0.5  # decoded before a window and dropped: covers AAC's and Vorbis's pre-roll
# RFC 7845 4.6: decode at least 80 ms before a seek target in an Opus stream. Measured against
# a 0.5 s pre-roll on the full-length library's Opus files: correlation >= 0.99999, RMS
# difference <= 0.3 % of the window's (0.5 s costs ~8 % more per kept minute).
OPUS_PREROLL_SECONDS = 0.08
MAX_BAD_PACKETS = 64  # corrupt packets skipped (as the ffmpeg CLI does) before giving up
TOLERANCE = 0.98  # the share of the promised audio a file must hold


class _CannotSeek(Exception):
    """The container did not land where asked: read the file as a stream instead."""


@dataclass(frozen=True)
class AvDecoded:
    windows: np.ndarray  # (n, window samples) at the analysis rate, float32
    duration: float  # seconds
    fingerprint: str


def read_windows(path: Path, sr: int, window_seconds: float, padding_threshold: float,
                 keep: int, ceiling: int, head_seconds: float) -> AvDecoded:
    """`keep` windows evenly spread over the file (all of them when it has fewer), mono at
    `sr`; the fingerprint hashes the first `head_seconds` of decoded audio."""
    with closing(_Opened(path)) as f:
        total = window_count(f.frames, round(window_seconds * f.rate), padding_threshold)
        if f.frames and total > keep:
            try:
                return _seek_windows(f, sr, window_seconds, keep, total, head_seconds)
            except _CannotSeek:
                f.reopen()
        return _stream(f, sr, window_seconds, padding_threshold, keep, ceiling, head_seconds)


def fingerprint(path: Path, head_seconds: float) -> str:
    """What read_windows gives as its fingerprint, reading only the file's start."""
    with closing(_Opened(path)) as f:
        return f.print(f.span(0, round(head_seconds * f.rate)))


def _seek_windows(f: _Opened, sr: int, window_seconds: float, keep: int, total: int,
                  head_seconds: float) -> AvDecoded:
    size = round(window_seconds * f.rate)
    out = np.zeros((keep, round(window_seconds * sr)), dtype=np.float32)
    head = f.span(0, max(size, round(head_seconds * f.rate)))  # window 0 and the fingerprint
    print_ = f.print(head[: round(head_seconds * f.rate)])
    for row, index in enumerate(spread(total, keep)):
        start = int(index) * size
        y = head[:size] if start == 0 else f.span(start, size, seek=True)
        wanted = min(size, f.frames - start)
        if wanted - len(y) > (1 - TOLERANCE) * f.frames:
            raise AudioError(f"truncated: the header promises {f.frames / f.rate:.1f} s, "
                             f"decoding stops near {(start + len(y)) / f.rate:.1f} s")
        y = resampled(y, f.rate, sr)[: out.shape[1]]
        out[row, : len(y)] = y
    return AvDecoded(out, f.frames / f.rate, print_)


def _stream(f: _Opened, sr: int, window_seconds: float, padding_threshold: float, keep: int,
            ceiling: int, head_seconds: float) -> AvDecoded:
    sink = WindowSink(round(window_seconds * sr), ceiling)
    resample = Resampler(f.rate, sr)
    head_frames = round(head_seconds * f.rate)
    head: list[np.ndarray] = []
    read = 0
    for _, planes in f.frames_decoded():
        y = _mono([planes])
        if read < head_frames:
            head.append(y[: head_frames - read])
        read += len(y)
        sink.add(resample(y))
    sink.add(resample(np.zeros(0, np.float32), last=True))
    if not read:
        raise AudioError("not a readable audio file: no audio could be decoded")
    if f.frames and read < TOLERANCE * f.frames:
        raise AudioError(f"truncated: the header promises {f.frames / f.rate:.1f} s, only "
                         f"{read / f.rate:.1f} s can be decoded")
    print_ = f.print(np.concatenate(head) if head else np.zeros(0, np.float32))
    return AvDecoded(sink.windows(padding_threshold, keep), read / f.rate, print_)


class _Opened:
    """One audio stream of an open container, decoded to mono float32 at its own rate."""

    def __init__(self, path: Path):
        self.path = path
        self._open()

    def close(self) -> None:
        self.container.close()
        if self.file is not None:  # FFmpeg never closes a file object it was given
            self.file.close()

    def _open(self) -> None:
        name = os.fsdecode(self.path)
        self.file = None
        try:
            name.encode("utf-8")
            source = name
        except UnicodeEncodeError:  # a name that isn't UTF-8: FFmpeg gets the open file
            try:
                self.file = source = open(os.fsencode(self.path), "rb")  # noqa: SIM115
            except OSError as exc:
                raise AudioError(f"cannot read file: {exc.strerror or exc}") from exc
        try:
            self.container = av.open(source, metadata_errors="ignore")
        except (av.FFmpegError, OSError) as exc:
            if self.file is not None:
                self.file.close()
            if isinstance(exc, av.FFmpegError):
                raise AudioError(f"not a readable audio file: {_reason(exc)}") from exc
            raise AudioError(f"cannot read file: {exc.strerror or exc}") from exc
        if not self.container.streams.audio:
            self.close()
            raise AudioError("not a readable audio file: no audio stream")
        self.stream = self.container.streams.audio[0]
        self.stream.codec_context.thread_count = 1  # one file, one core: workers parallelise
        self.rate = self.stream.codec_context.sample_rate or self.stream.rate
        if not self.rate:
            self.close()
            raise AudioError("not a readable audio file: no sample rate")
        st, tb = self.stream, self.stream.time_base
        if st.duration and tb:
            seconds = float(st.duration * tb)
        elif self.container.duration:
            seconds = self.container.duration / av.time_base
        else:
            seconds = 0.0  # a stream of unknown length: read to its end
        # the decoder drops `delay` samples (Opus's pre-skip) that the stream's length counts
        self.frames = max(0, round(seconds * self.rate) - (st.codec_context.delay or 0))
        self.origin = st.start_time or 0  # the first sample's timestamp (MP3's encoder delay)
        self.bad = 0
        # Windows reached by a seek may be decoded another way than the file's start, which
        # the fingerprint hashes and so is decoded as it always was.
        self.seek_decoder = _mono_opus(st) or st.codec_context
        self.preroll = OPUS_PREROLL_SECONDS if st.codec_context.name == "opus" else PREROLL_SECONDS

    def reopen(self) -> None:
        self.close()
        self._open()

    def print(self, head: np.ndarray) -> str:
        st = self.stream
        form = (f"{self.container.format.name}/{st.codec_context.name}/{self.rate}/"
                f"{st.codec_context.channels}/{self.frames}").encode()
        return hashlib.sha1(form + np.ascontiguousarray(head, np.float32).tobytes()).hexdigest()

    def frames_decoded(self, decoder: av.CodecContext | None = None, after: int | None = None):
        """(first sample's index or None, (channels, samples) array) per decoded frame;
        corrupt packets are skipped as the ffmpeg CLI skips them, up to a limit. Packets that
        end before the timestamp `after` are not decoded (until one that doesn't is)."""
        tb = float(self.stream.time_base or 0)
        decode = (decoder or self.stream.codec_context).decode
        for packet in self.container.demux(self.stream):
            if after is not None:
                if (packet.size and packet.pts is not None and packet.duration
                        and packet.pts + packet.duration <= after):
                    continue
                after = None
            try:
                frames = decode(packet)
            except av.FFmpegError as exc:
                self.bad += 1
                if self.bad > MAX_BAD_PACKETS:
                    raise AudioError(f"not a readable audio file: {_reason(exc)}") from exc
                continue
            for frame in frames:
                at = (None if frame.pts is None or not tb
                      else round((frame.pts - self.origin) * tb * self.rate))
                yield at, _planes(frame)

    def span(self, start: int, count: int, seek: bool = False) -> np.ndarray:
        """`count` mono samples from sample `start` (fewer where the file ends)."""
        decoder, after = None, None
        if seek:
            target = max(0, start - round(self.preroll * self.rate))
            tb = self.stream.time_base
            after = self.origin + int(target / self.rate / tb)
            try:
                self.container.seek(after, stream=self.stream)
            except av.FFmpegError as exc:
                raise _CannotSeek from exc
            decoder = self.seek_decoder
            decoder.flush_buffers()
        # Where the held samples start is counted back from the newest timestamp: right after
        # a seek an Ogg demuxer may stamp the first packets of a page a few ms off; later
        # pages are exact. Read from the file's start, the first sample is sample 0.
        parts, held, base = [], 0, None if seek else 0
        for at, planes in self.frames_decoded(decoder, after):
            if seek and at is not None:
                base = at - held
            parts.append(planes)
            held += planes.shape[1]
            if base is not None and base + held >= start + count:
                break
        if base is None or base > start:  # no timestamps, or it landed past the window
            raise _CannotSeek
        lo = start - base
        return _mono(_trimmed(parts, lo, lo + count))


def _trimmed(parts: list[np.ndarray], lo: int, hi: int) -> list[np.ndarray]:
    """The samples lo:hi of frames laid end to end, without joining what is dropped."""
    out, pos = [], 0
    for planes in parts:
        n = planes.shape[1]
        if pos + n > lo and pos < hi:
            out.append(planes[:, max(0, lo - pos) : hi - pos])
        pos += n
    return out


def _mono_opus(stream: av.audio.AudioStream) -> av.CodecContext | None:
    """FFmpeg's Opus decoder for a stereo stream (OpusHead channel mapping family 0), set up
    for one output channel; None for any other stream. Its head says one channel and keeps
    the pre-skip and output gain; packets coded in stereo are still read as stereo."""
    ctx = stream.codec_context
    head = bytes(ctx.extradata or b"")
    if ctx.name != "opus" or len(head) < 19 or head[:8] != b"OpusHead" or head[9] != 2 \
            or head[18] != 0:
        return None
    mono = av.CodecContext.create("opus", "r")
    mono.extradata = head[:9] + b"\x01" + head[10:]
    mono.thread_count = 1
    return mono


def _planes(frame: av.AudioFrame) -> np.ndarray:
    """A frame's samples as (channels, samples), in its own sample type."""
    if frame.format.name in ("flt", "fltp") and len(frame.layout.channels) == 1:
        # a view of the frame's own buffer: to_ndarray costs 5x as much on 20 ms Opus frames
        return np.frombuffer(frame.planes[0], np.float32, frame.samples)[None]
    data = frame.to_ndarray()
    if frame.format.is_planar:
        return data
    return data.reshape(-1, len(frame.layout.channels) or 1).T


def _mono(parts: list[np.ndarray]) -> np.ndarray:
    """Frames' samples joined, channels averaged, as float32 in [-1, 1]: once a window, not
    once a frame (an Opus frame is 20 ms: per-frame work would cost as much as decoding)."""
    if not parts:
        return np.zeros(0, np.float32)
    data = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
    scale = _SCALE.get(data.dtype.str[1:])
    if data.dtype == np.uint8:
        data = data.astype(np.float32) - 128.0
    data = data.astype(np.float32, copy=False)
    factor = np.float32((scale or 1.0) / len(data))
    # rows of a (channels, n) array add up fastest one row after another, not as a product
    mono = data.sum(axis=0) if len(data) > 1 else data[0].copy()
    if factor != 1:
        mono *= factor
    return mono


_SCALE = {"i2": 1 / 32768, "i4": 1 / 2147483648, "u1": 1 / 128}


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
