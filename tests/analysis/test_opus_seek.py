"""Ogg Opus read where its kept windows are: a stereo stream decoded to mono by FFmpeg's Opus
decoder (the channels added before its inverse MDCT) after an 80 ms pre-roll keeps the windows
that decoding in stereo, averaging (L+R)/2 and a 0.5 s pre-roll keep; the fingerprint (the
file's start, still decoded in stereo) does not change."""

from __future__ import annotations

import av
import numpy as np
import pytest

from beetsplug.cluster.analysis import av_reader
from beetsplug.cluster.analysis.audio import fingerprint
from beetsplug.cluster.analysis.audio_stream import resampled, spread, window_count

SR, SECONDS, HEAD = 11025, 5.0, 5


def assert_close(got: np.ndarray, want: np.ndarray, rms: float = 0.01) -> None:
    """Whole windows, edges included: correlation >= 0.9999 and an RMS difference of at most
    `rms` of the window's RMS (measured: at most 0.3 % on the full-length library)."""
    assert got.shape == want.shape
    for g, w in zip(got, want):
        assert np.corrcoef(g, w)[0, 1] >= 0.9999
        assert np.sqrt(np.mean((g - w) ** 2)) <= rms * np.sqrt(np.mean(w**2))


@pytest.fixture()
def stereo_seek(monkeypatch):
    """The path before this one: seeks decode in stereo, with a 0.5 s pre-roll."""

    def read(path, keep):
        with monkeypatch.context() as m:
            m.setattr(av_reader, "_mono_opus", lambda stream: None)
            m.setattr(av_reader, "OPUS_PREROLL_SECONDS", av_reader.PREROLL_SECONDS)
            return av_reader.read_windows(path, SR, SECONDS, 0.5, keep, 1000, HEAD)

    return read


def opus_clip(path, seconds: float, channels: int) -> np.ndarray:
    """An Ogg Opus file of two different sounds left and right (one in mono); returns the
    (channels, samples) signal it encodes."""
    rate = 48000
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(0)
    left = 0.4 * np.sin(2 * np.pi * (220 + 30 * t) * t) + 0.02 * rng.standard_normal(len(t))
    right = 0.1 * np.sin(2 * np.pi * 1250 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))
    y = np.stack([left, right] if channels == 2 else [left]).astype(np.float32)
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=rate, layout=layout)
        stream.bit_rate = 96_000 * channels
        for start in range(0, y.shape[1], 960):
            chunk = np.ascontiguousarray(y[:, start : start + 960].T).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout=layout)
            frame.sample_rate = rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return y


def whole_file_windows(path, keep: int) -> np.ndarray:
    """The file decoded from its start to its end in stereo, (L+R)/2, cut into windows at
    48 kHz, each resampled alone as the seeking path resamples it."""
    with av.open(str(path)) as c:
        planes = [f.to_ndarray() for f in c.decode(audio=0)]
    y = np.concatenate(planes, axis=1).mean(axis=0, dtype=np.float32)
    size = round(SECONDS * 48000)
    picked = spread(window_count(len(y), size, 0.5), keep)
    return np.stack([resampled(y[i * size : (i + 1) * size], 48000, SR)[: round(SECONDS * SR)]
                     for i in picked])


def test_stereo_opus_seeks_decode_mono_and_keep_the_stereo_paths_windows(full_slice,
                                                                          stereo_seek):
    files = [f for f in sorted(full_slice.labels()) if f.endswith(".opus")]
    assert files
    for rel in files:
        path = full_slice.music / rel
        with av.open(str(path)) as c:
            assert c.streams.audio[0].codec_context.channels == 2
        got = av_reader.read_windows(path, SR, SECONDS, 0.5, 6, 1000, HEAD)
        want = stereo_seek(path, 6)
        assert_close(got.windows, want.windows)
        assert got.fingerprint == want.fingerprint == fingerprint(path)
        assert got.duration == want.duration


def test_the_mono_decoder_averages_left_and_right(tmp_path, stereo_seek):
    path = tmp_path / "two sounds.opus"
    y = opus_clip(path, 31.0, channels=2)
    opened = av_reader._Opened(path)
    try:
        assert opened.seek_decoder is not opened.stream.codec_context
        assert opened.preroll == av_reader.OPUS_PREROLL_SECONDS
        # the seeking path itself: a window in the middle, read after a seek
        start, count = 48000 * 12, 48000 * 2
        mono = opened.span(start, count, seek=True)
    finally:
        opened.close()
    assert len(mono) == count
    # (L+R)/2 of the source, through a lossy codec: not L, R or (L+R)/sqrt(2)
    source = y[:, start : start + count].mean(axis=0)
    assert np.sqrt(np.mean((mono - source) ** 2)) <= 0.1 * np.sqrt(np.mean(source**2))
    assert np.sqrt(np.mean(mono**2)) == pytest.approx(np.sqrt(np.mean(source**2)), rel=0.05)
    got = av_reader.read_windows(path, SR, SECONDS, 0.5, 3, 1000, HEAD)
    assert_close(got.windows, whole_file_windows(path, 3))
    assert_close(got.windows, stereo_seek(path, 3).windows)


def test_a_mono_opus_stream_keeps_its_own_decoder(tmp_path):
    path = tmp_path / "mono.opus"
    opus_clip(path, 31.0, channels=1)
    opened = av_reader._Opened(path)
    try:
        assert av_reader._mono_opus(opened.stream) is None
        assert opened.seek_decoder is opened.stream.codec_context
    finally:
        opened.close()
    got = av_reader.read_windows(path, SR, SECONDS, 0.5, 3, 1000, HEAD)
    assert_close(got.windows, whole_file_windows(path, 3))


def test_other_codecs_keep_their_decoder_and_pre_roll(full_slice):
    rel = next(f for f in sorted(full_slice.labels()) if f.endswith(".ogg"))  # Vorbis
    opened = av_reader._Opened(full_slice.music / rel)
    try:
        assert opened.seek_decoder is opened.stream.codec_context
        assert opened.preroll == av_reader.PREROLL_SECONDS
    finally:
        opened.close()
