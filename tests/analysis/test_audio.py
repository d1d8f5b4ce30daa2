"""Decoding: long files are read only where the kept windows are; the answers match a full read."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from conftest import pick_clips

from beetsplug.cluster.analysis.audio import decode_windows, fingerprint
from beetsplug.cluster.errors import AudioError


def long_wav(path, sr: int, seconds: float, channels: int = 2):
    rng = np.random.default_rng(0)
    t = np.arange(int(sr * seconds)) / sr
    tone = 0.2 * np.sin(2 * np.pi * (220 + 30 * t)[:, None] * t[:, None])  # a rising sweep
    data = tone + 0.01 * rng.standard_normal((len(t), channels))
    sf.write(path, data.astype(np.float32), sr, subtype="PCM_16")
    return path


def test_capped_long_file_reads_only_the_kept_windows(tmp_path):
    path = long_wav(tmp_path / "mix.wav", 11025, 300.0)  # 5 min, 60 windows of 5 s
    full = decode_windows(path, 11025, 5.0)
    capped = decode_windows(path, 11025, 5.0, max_windows=4)
    assert full.windows.shape == (60, 55125) and capped.windows.shape == (4, 55125)
    assert capped.duration == pytest.approx(300.0)
    # no resampling at this rate, so the seeked windows are the full read's, exactly
    np.testing.assert_array_equal(capped.windows, full.windows[[0, 20, 39, 59]])


def test_capped_windows_match_a_full_read_after_resampling(tmp_path):
    path = long_wav(tmp_path / "mix.wav", 44100, 120.0)
    full = decode_windows(path, 11025, 5.0)
    capped = decode_windows(path, 11025, 5.0, max_windows=3)
    for got, want in zip(capped.windows, full.windows[[0, 12, 23]]):
        core = slice(500, -500)  # the resampler's edges differ by design, the rest must not
        assert np.corrcoef(got[core], want[core])[0, 1] > 0.999


def test_truncated_mp3_is_reported_when_seeking(tmp_path, emotify):
    data = pick_clips(per_genre=1)[0].read_bytes()
    path = tmp_path / "cut.mp3"
    path.write_bytes(data[: len(data) // 3])  # its header still promises 30 s
    with pytest.raises(AudioError, match="truncated"):
        decode_windows(path, 11025, 5.0, max_windows=2)  # seeks to the last window
    with pytest.raises(AudioError, match="truncated"):
        decode_windows(path, 11025, 5.0)


def test_the_decoder_fingerprints_as_fingerprint_does(tmp_path, emotify):
    clip = pick_clips(per_genre=1)[0]
    assert decode_windows(clip, 11025, 5.0).fingerprint == fingerprint(clip) is not None
    long = long_wav(tmp_path / "mix.wav", 11025, 300.0)  # the seeking path
    assert decode_windows(long, 11025, 5.0, max_windows=4).fingerprint == fingerprint(long)
    other = long_wav(tmp_path / "other.wav", 11025, 300.0, channels=1)
    assert fingerprint(other) != fingerprint(long)


@pytest.mark.parametrize("ext", ["flac", "ogg", "wav"])
def test_a_cut_off_file_is_truncated_and_a_whole_one_is_not(tmp_path, emotify, ext):
    """Cut-offs a decoder reads without complaint: FLAC (its decode error hands over to PyAV,
    which decodes what is there), Ogg (no last page), WAV (a header promising more)."""
    y, sr = sf.read(pick_clips(per_genre=1)[0], dtype="float32", always_2d=True)
    whole, cut = tmp_path / f"whole.{ext}", tmp_path / f"cut.{ext}"
    sf.write(whole, y[: 20 * sr], sr)
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    assert decode_windows(whole, 11025, 5.0).duration == pytest.approx(20.0, abs=0.05)
    with pytest.raises(AudioError, match="truncated"):
        decode_windows(cut, 11025, 5.0)
