"""Every format decodes in-process, seeking to the kept windows, to the windows the old path
kept (the ffmpeg CLI decoding the whole file, mono at 11025 Hz, then cut and spread); a
container that can't seek still decodes."""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import av
import numpy as np
import pytest

from beetsplug.cluster.analysis import av_reader
from beetsplug.cluster.analysis.audio import cut_windows, decode_windows, fingerprint
from beetsplug.cluster.analysis.audio_stream import spread

SR, SECONDS, KEEP = 11025, 5.0, 5
CORE = slice(500, -500)  # each kept window is resampled alone: its edges differ by design
# FFmpeg's stereo-to-mono downmix is (L+R)/sqrt(2), ours (and libsndfile's path) (L+R)/2: the
# old path's M4A and Opus windows were 3 dB louder than the same music in MP3.
FFMPEG_GAIN = np.sqrt(2)


def ffmpeg_windows(path, keep: int) -> np.ndarray:
    """The old path: the ffmpeg CLI decodes the whole file, the windows are cut and spread."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.skip("no ffmpeg binary to compare with (.ci/full-slice.sh installs it)")
    pcm = subprocess.run([exe, "-nostdin", "-v", "error", "-i", os.fspath(path), "-vn", "-ac",
                          "1", "-ar", str(SR), "-f", "f32le", "-"], capture_output=True,
                         check=True).stdout
    whole = cut_windows(np.frombuffer(pcm, "<f4"), SR, SECONDS, 0.5)
    return whole[spread(len(whole), keep)], len(pcm) / 4 / SR


def assert_same_windows(got: np.ndarray, want: np.ndarray, gain: float = 1.0) -> None:
    """Within the resampler tolerance: correlation >= 0.999 and an RMS difference of at most
    5 % of the window's RMS, away from the edges."""
    assert got.shape == want.shape
    for g, w in zip(got[:, CORE] * gain, want[:, CORE]):
        assert np.corrcoef(g, w)[0, 1] >= 0.999
        assert np.sqrt(np.mean((g - w) ** 2)) <= 0.05 * np.sqrt(np.mean(w**2))


@pytest.fixture()
def no_subprocess(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.fixture()
def seeks(monkeypatch) -> list[int]:
    """Every seek the decoders make (libsndfile's and PyAV's), recorded as it happens."""
    import soundfile as sf

    made: list[int] = []
    sf_seek, av_span = sf.SoundFile.seek, av_reader._Opened.span

    def sf_recorded(self, frames, *args):
        made.append(frames)
        return sf_seek(self, frames, *args)

    def av_recorded(self, start, count, seek=False):
        if seek:
            made.append(start)
        return av_span(self, start, count, seek)

    monkeypatch.setattr(sf.SoundFile, "seek", sf_recorded)
    monkeypatch.setattr(av_reader._Opened, "span", av_recorded)
    return made


@pytest.mark.parametrize("ext", ["mp3", "flac", "ogg", "opus", "m4a"])
def test_every_format_keeps_the_old_paths_windows_in_process(full_slice, ext, request):
    path = full_slice.music / next(f for f in sorted(full_slice.labels()) if f.endswith(ext))
    want, want_seconds = ffmpeg_windows(path, KEEP)
    seeks = request.getfixturevalue("seeks")
    request.getfixturevalue("no_subprocess")
    got = decode_windows(path, SR, SECONDS, max_windows=KEEP)
    assert len(seeks) >= KEEP - 1  # read where the kept windows are, not the whole file
    assert got.duration == pytest.approx(want_seconds, abs=0.05)
    assert_same_windows(got.windows, want, FFMPEG_GAIN)
    assert got.fingerprint is not None and got.fingerprint == fingerprint(path)


def test_an_m4a_under_a_name_that_is_not_utf8_decodes(full_slice, tmp_path):
    m4a = full_slice.music / next(f for f in sorted(full_slice.labels()) if f.endswith("m4a"))
    odd = os.path.join(os.fsencode(tmp_path), b"rip \xff\xfe.m4a")
    shutil.copyfile(m4a, odd)
    got = decode_windows(os.fsdecode(odd), SR, SECONDS, max_windows=3)
    want = decode_windows(m4a, SR, SECONDS, max_windows=3)
    np.testing.assert_array_equal(got.windows, want.windows)


class _Pipe(io.RawIOBase):
    """Where a live recording goes: bytes out, no seeking back to write an index."""

    def __init__(self):
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, b) -> int:
        self.data += bytes(b)
        return len(b)


def streamed_webm(path, seconds: float) -> None:
    """Opus in WebM written to a pipe: no duration and no cues, so no seeking."""
    rate, t = 48000, np.arange(int(48000 * seconds)) / 48000
    rng = np.random.default_rng(0)
    y = 0.3 * np.sin(2 * np.pi * (200 + 40 * t) * t) + 0.05 * rng.standard_normal(len(t))
    pipe = _Pipe()
    with av.open(pipe, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=rate, layout="mono")
        for start in range(0, len(y), 960):
            frame = av.AudioFrame.from_ndarray(y[None, start : start + 960].astype(np.float32),
                                               format="flt", layout="mono")
            frame.sample_rate = rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    path.write_bytes(pipe.data)


def test_a_container_that_cannot_seek_still_decodes(tmp_path, request):
    path = tmp_path / "live.webm"
    streamed_webm(path, 32.0)
    with av.open(str(path)) as c:  # what makes it unseekable: its length is nowhere
        assert c.duration is None and c.streams.audio[0].duration is None
    want, _ = ffmpeg_windows(path, 3)
    request.getfixturevalue("no_subprocess")
    got = decode_windows(path, SR, SECONDS, max_windows=3)
    assert got.duration == pytest.approx(32.0, abs=0.05)
    assert_same_windows(got.windows, want)  # mono: no downmix, no gain
    whole = decode_windows(path, SR, SECONDS, max_windows=100)  # every window, streamed
    assert whole.windows.shape == (6, 55125)
    np.testing.assert_array_equal(got.windows, whole.windows[spread(6, 3)])
    assert got.fingerprint == fingerprint(path) is not None
