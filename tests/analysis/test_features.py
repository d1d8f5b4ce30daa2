"""Hand-crafted features: shapes, finiteness, determinism and a few known signals."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr
from conftest import pick_clips

from beetsplug.cluster.embedders.base import Embedding
from beetsplug.cluster.embedders.features import (
    FEATURE_NAMES,
    SAMPLE_RATE,
    WINDOW_SECONDS,
    feature_names,
    pitch_class_profile,
    window_features,
)
from beetsplug.cluster.embedders.handcrafted import HandcraftedEmbedder

SR = SAMPLE_RATE
N = int(WINDOW_SECONDS * SR)
COL = {name: i for i, name in enumerate(FEATURE_NAMES)}


def sine(freq: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(N) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def clicks(bpm: float) -> np.ndarray:
    """Short decaying noise bursts every beat, like a metronome."""
    rng = np.random.default_rng(0)
    y = np.zeros(N, dtype=np.float32)
    burst = (rng.standard_normal(256) * np.exp(-np.arange(256) / 40)).astype(np.float32)
    for start in np.arange(0, N - 256, 60.0 / bpm * SR).astype(int):
        y[start : start + 256] += burst
    return y


def real_windows(emotify) -> np.ndarray:
    """The 5 s windows of one real clip per genre, decoded as the analysis does."""
    out = []
    for path in pick_clips(1):
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        mono = soxr.resample(y.mean(axis=1), sr, SR)
        out += [mono[i * N : (i + 1) * N] for i in range(len(mono) // N)]
    return np.stack(out)


def test_shape_dtype_and_names(emotify):
    windows = real_windows(emotify)
    vectors = window_features(windows, SR)
    assert vectors.shape == (len(windows), len(FEATURE_NAMES))
    assert vectors.dtype == np.float32
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert np.isfinite(vectors).all()
    # Different music gives different vectors (no column collapsed to a constant by a bug
    # other than those that are constant by design for this input).
    assert (vectors.std(axis=0) > 0).sum() >= len(FEATURE_NAMES) - 2


def test_deterministic_and_independent_of_batch(emotify):
    windows = real_windows(emotify)[:8]
    whole = window_features(windows, SR)
    assert np.array_equal(whole, window_features(windows.copy(), SR))
    one_by_one = np.concatenate([window_features(w[None], SR) for w in windows])
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "signal",
    [np.zeros(N, np.float32), np.full(N, 0.3, np.float32), sine(440, amp=1e-7)],
    ids=["digital-silence", "dc-offset", "near-silence"],
)
def test_degenerate_input_stays_finite(signal):
    vectors = window_features(np.stack([signal, sine(440)]), SR)
    assert np.isfinite(vectors).all()
    assert np.isfinite(HandcraftedEmbedder().embed(signal[None]).vectors).all()


def test_sine_at_440_hz():
    vectors = window_features(sine(440)[None], SR)[0]
    profile = pitch_class_profile(sine(440)[None], SR)[0]
    assert int(np.argmax(profile)) == 9  # C C# D D# E F F# G G# A: index 9 is A
    assert profile[9] > 2 * np.sort(profile)[-2]
    centroid = np.exp(vectors[COL["log_centroid"]]) - 1
    assert centroid == pytest.approx(440, rel=0.05)
    # The rotated chroma puts the strongest pitch class first whatever the key.
    assert vectors[COL["chroma_rel0"]] == pytest.approx(profile.max(), rel=1e-5)
    shifted = window_features(sine(440 * 2 ** (3 / 12))[None], SR)[0]  # C, three semitones up
    chroma = [COL[f"chroma_rel{k}"] for k in range(12)]
    np.testing.assert_allclose(shifted[chroma], vectors[chroma], atol=0.05)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 150.0])
def test_click_track_tempo(bpm):
    vectors = window_features(clicks(bpm)[None], SR)[0]
    found = 2.0 ** vectors[COL["log2_tempo"]]
    ratios = found / (bpm * np.array([0.5, 1.0, 2.0]))
    assert np.min(np.abs(ratios - 1)) < 0.04, found
    assert vectors[COL["pulse_clarity"]] > 0.3


def test_louder_is_louder_and_noise_is_flatter():
    rng = np.random.default_rng(1)
    noise = (0.1 * rng.standard_normal(N)).astype(np.float32)
    v = window_features(np.stack([sine(440, 0.05), sine(440, 0.5), noise]), SR)
    assert v[1, COL["rms_db"]] == pytest.approx(v[0, COL["rms_db"]] + 20, abs=0.5)
    assert v[2, COL["log_flatness"]] > v[1, COL["log_flatness"]] + 5
    assert v[1, COL["zcr"]] == pytest.approx(2 * 440 / SR, rel=0.05)  # two crossings a cycle
    assert v[2, COL["zcr"]] == pytest.approx(0.5, abs=0.02)  # white noise: every other sample


def test_names_follow_the_sample_rate():
    # One more octave band of spectral contrast fits below Nyquist at 22050 Hz.
    assert len(feature_names(22050)) == len(feature_names(11025)) + 2
    assert window_features(np.zeros((1, 22050 * 2), np.float32), 22050).shape == (
        1,
        len(feature_names(22050)),
    )


def test_embedder(emotify):
    emb = HandcraftedEmbedder()
    assert (emb.name, emb.sample_rate, emb.window_seconds) == ("handcrafted", SR, 5.0)
    assert emb.window_dim == len(FEATURE_NAMES)
    windows = real_windows(emotify)[:3]
    out = emb.embed(windows)
    assert isinstance(out, Embedding)
    assert out.vectors.shape == (3, emb.window_dim) and out.tags is None
    np.testing.assert_array_equal(out.vectors, window_features(windows, SR))
    assert emb.embed(np.zeros((0, N), np.float32)).vectors.shape == (0, emb.window_dim)
    # The window length changes the vectors, so it is part of the version.
    assert HandcraftedEmbedder(window_seconds=10.0).version != emb.version
    with pytest.raises(ValueError):
        emb.embed(windows[0])
    with pytest.raises(ValueError):
        HandcraftedEmbedder(window_seconds=0.5)


def test_too_short_or_misshapen_windows_are_refused():
    with pytest.raises(ValueError):
        window_features(np.zeros((2, SR // 2), np.float32), SR)
    with pytest.raises(ValueError):
        window_features(np.zeros((2, 3, N), np.float32), SR)
    # Exactly the minimum still works, and a 1-D array is one window.
    assert window_features(np.zeros(SR, np.float32), SR).shape == (1, len(FEATURE_NAMES))
