"""Hand-crafted features per window, all from ONE short-time spectrum.

Every frame-level feature (mel/MFCC, centroid, bandwidth, rolloff, flatness, contrast, chroma,
onset envelope for tempo) reads the same STFT, computed once for a whole batch of windows with
numpy; zero-crossing rate and RMS come from the waveform over the same frames. Filter banks
(mel, chroma, DCT, contrast bands, tempo prior) are built once per sample rate and cached.

Each window becomes one row of frame means (plus the MFCC variances, as a log total and
per-coefficient shares); heavy-tailed quantities (energy, frequencies, flatness, variances,
tempo) are log-compressed so that a StandardScaler downstream sees roughly symmetric columns.
Chroma is rotated to start at the strongest pitch class: the key says nothing about the kind
of music. Frame standard deviations of the spectral shape and energy were tried and left out:
they lowered clustering quality on emotify-dev (see scripts/benchmark.py and README).
"""

from __future__ import annotations

import numpy as np

from .feature_plan import (
    BLOCK,
    CONTRAST_QUANTILE,
    MIN_SECONDS,
    N_DELTA,
    N_MFCC,
    ROLLOFF,
    SAMPLE_RATE,
    WINDOW_SECONDS,
    SpectralPlan,
    contrast_edges,
    spectral_plan,
)

__all__ = ["FEATURE_NAMES", "MIN_SECONDS", "SAMPLE_RATE", "WINDOW_SECONDS", "feature_names",
           "pitch_class_profile", "window_features"]

_EPS = 1e-10


def feature_names(sr: int = SAMPLE_RATE) -> tuple[str, ...]:
    """One name per column of `window_features` at this sample rate."""
    n_bands = len(contrast_edges(sr)) - 1
    names = [f"mfcc{i}_mean" for i in range(N_MFCC)]
    names += ["mfcc_log_var_total", "mfcc_log_var_timbre"]
    names += [f"mfcc{i}_var_share" for i in range(1, N_MFCC)]
    names += [f"dmfcc{i}_log_var" for i in range(N_DELTA)]
    names += ["log_centroid", "log_bandwidth", "log_rolloff", "log_flatness", "rms_db", "zcr"]
    names += [f"contrast{b}" for b in range(n_bands)]
    names += [f"valley{b}_db" for b in range(n_bands)]
    names += [f"chroma_rel{k}" for k in range(12)]
    names += ["onset_mean", "log2_tempo", "pulse_clarity"]
    return tuple(names)


FEATURE_NAMES = feature_names(SAMPLE_RATE)


def _frames(windows: np.ndarray, plan: SpectralPlan) -> np.ndarray:
    """Centred, zero-padded frames (n, t, n_fft) as librosa's stft(center=True) would cut."""
    half = plan.n_fft // 2
    padded = np.pad(windows, ((0, 0), (half, half)))
    return np.lib.stride_tricks.sliding_window_view(padded, plan.n_fft, axis=1)[:, :: plan.hop]


def _spectral_shape(mag: np.ndarray, power: np.ndarray, plan: SpectralPlan) -> list[np.ndarray]:
    """Window means of log centroid, bandwidth, rolloff and flatness."""
    energy = mag.sum(axis=2, dtype=np.float64)
    total = energy + _EPS
    centroid = (mag @ plan.freqs) / total
    # E[(f - c)^2] = E[f^2] - c^2: two mat-vecs instead of a (n, t, bins) temporary.
    bandwidth = np.sqrt(np.maximum((mag @ plan.freqs**2) / total - centroid**2, 0.0))
    rolloff = _rolloff(mag, energy, plan)
    thresh = np.maximum(power, _EPS)
    flatness = np.exp(np.log(thresh).mean(axis=2)) / thresh.mean(axis=2)
    # +1 Hz keeps a silent frame (all zeros) at log(1) = 0 instead of -inf.
    return [np.log(v).mean(axis=1) for v in (centroid + 1, bandwidth + 1, rolloff + 1, flatness)]


def _rolloff(mag: np.ndarray, energy: np.ndarray, plan: SpectralPlan) -> np.ndarray:
    """Frequency below which ROLLOFF of the magnitude lies, exact, without a full cumsum.

    A cumsum over every bin costs more than the FFT; cumulate block sums (one mat-mul), find
    the crossing block, and cumulate only inside it.
    """
    target = ROLLOFF * energy  # a silent frame's target is 0: its rolloff is 0 Hz
    cum_blocks = np.cumsum(mag @ plan.blocks, axis=2, dtype=np.float64)
    block = np.minimum((cum_blocks < target[..., None]).sum(axis=2), plan.blocks.shape[1] - 1)
    before = np.take_along_axis(cum_blocks, block[..., None] - 1, axis=2)[..., 0]
    before = np.where(block > 0, before, 0.0)
    idx = np.minimum(block[..., None] * BLOCK + np.arange(BLOCK), mag.shape[2] - 1)
    inside = np.cumsum(np.take_along_axis(mag, idx, axis=2), axis=2, dtype=np.float64)
    offset = np.argmax(before[..., None] + inside >= target[..., None], axis=2)
    return plan.freqs[np.take_along_axis(idx, offset[..., None], axis=2)[..., 0]]


def _contrast(mag: np.ndarray, plan: SpectralPlan) -> list[np.ndarray]:
    """Mean peak/valley contrast and valley level (dB) per octave band (Jiang et al. 2002)."""
    contrast, valley = [], []
    for lo, hi in plan.bands:
        sub = np.sort(mag[:, :, lo:hi], axis=2)
        k = max(1, round(CONTRAST_QUANTILE * (hi - lo)))
        v = sub[:, :, :k].mean(axis=2) + _EPS
        p = sub[:, :, -k:].mean(axis=2) + _EPS
        contrast.append((20 * np.log10(p / v)).mean(axis=1))
        valley.append((20 * np.log10(v)).mean(axis=1))
    return contrast + valley


def _waveform(windows: np.ndarray, plan: SpectralPlan) -> list[np.ndarray]:
    """RMS (dB) and zero-crossing rate over the STFT's own frames, from the raw waveform."""
    frames = _frames(windows, plan)
    rms = np.sqrt(np.einsum("ntk,ntk->nt", frames, frames) / plan.n_fft)
    sign = np.signbit(windows)
    flips = np.zeros(windows.shape, dtype=np.float32)
    flips[:, 1:] = sign[:, 1:] != sign[:, :-1]
    zcr = np.einsum("ntk,k->nt", _frames(flips, plan), plan.ones) / plan.n_fft
    return [(20 * np.log10(rms + 1e-5)).mean(axis=1), zcr.mean(axis=1)]


def _tempo(onset: np.ndarray, plan: SpectralPlan) -> list[np.ndarray]:
    """Tempo (log2 BPM) and pulse clarity from the onset envelope's autocorrelation."""
    x = onset - onset.mean(axis=1, keepdims=True)
    t = x.shape[1]
    spec = np.fft.rfft(x, n=2 * t, axis=1)
    ac = np.fft.irfft(spec.real**2 + spec.imag**2, axis=1)[:, :t]
    ac = ac / (ac[:, :1] + _EPS)
    lags = plan.lags[plan.lags < t - 1]
    # The small floor makes a window with no pulse at all (silence, a drone) fall on 120 BPM.
    scored = (np.maximum(ac[:, lags], 0) + 1e-3) * plan.prior[: len(lags)]
    best = np.argmax(scored, axis=1)
    lag = lags[best]
    rows = np.arange(len(x))
    # Parabolic interpolation: the frame rate (~21.5 /s) is too coarse for tempo on its own.
    left, mid, right = ac[rows, lag - 1], ac[rows, lag], ac[rows, lag + 1]
    curve = left - 2 * mid + right
    safe = np.where(curve < -_EPS, curve, -1.0)
    shift = np.where(curve < -_EPS, np.clip(0.5 * (left - right) / safe, -0.5, 0.5), 0.0)
    bpm = 60 * plan.sr / plan.hop / (lag + shift)
    return [np.log2(bpm), np.maximum(mid, 0.0)]


def _mfcc_stats(mfcc: np.ndarray) -> np.ndarray:
    """MFCC means and variances; the variance vector as log total + shares of the total.

    Twenty log-variances move together (one "how busy is this window" factor) and outweigh
    everything else after standard scaling; the total (log, heavy-tailed) plus each
    coefficient's share (bounded) carry the same information with that factor counted once.
    """
    var = mfcc.var(axis=1)
    timbre = var[:, 1:].sum(axis=1, keepdims=True)  # c0 is loudness, the rest the envelope
    delta = np.diff(mfcc[:, :, :N_DELTA], axis=1)
    return np.concatenate(
        [
            mfcc.mean(axis=1),
            np.log(var.sum(axis=1, keepdims=True) + 1e-3),
            np.log(timbre + 1e-3),
            var[:, 1:] / (timbre + 1e-6),
            np.log(delta.var(axis=1) + 1e-3),
        ],
        axis=1,
    )


def _chroma(power: np.ndarray, plan: SpectralPlan) -> np.ndarray:
    """Mean chroma per window (C first), each frame scaled to its strongest pitch class."""
    chroma = power @ plan.chroma
    return (chroma / np.maximum(chroma.max(axis=2, keepdims=True), _EPS)).mean(axis=1)


def _spectrum(windows: np.ndarray, plan: SpectralPlan) -> np.ndarray:
    """The one power spectrogram (n, frames, bins) float32 everything else reads."""
    import scipy.fft  # on first use: `beet similar` names this backend without computing it

    spec = scipy.fft.rfft(_frames(windows, plan) * plan.window, axis=2)
    return spec.real**2 + spec.imag**2


def _as_windows(windows: np.ndarray, sr: int) -> np.ndarray:
    windows = np.ascontiguousarray(np.atleast_2d(windows), dtype=np.float32)
    if windows.ndim != 2 or windows.shape[1] < MIN_SECONDS * sr:
        raise ValueError(
            f"windows must be (n, >= {MIN_SECONDS:g} s of samples), got {windows.shape}"
        )
    return windows


def pitch_class_profile(windows: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """(n, 12) mean chroma, C first, before the key-invariant rotation of `window_features`."""
    windows = _as_windows(windows, sr)
    plan = spectral_plan(sr)
    return _chroma(_spectrum(windows, plan), plan)


def window_features(windows: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """(n, samples) float mono windows at `sr` -> (n, len(feature_names(sr))) float32."""
    windows = _as_windows(windows, sr)
    plan = spectral_plan(sr)
    power = _spectrum(windows, plan)
    mag = np.sqrt(power)

    log_mel = 10 * np.log10(np.maximum(power @ plan.mel, _EPS))
    # top_db = 80 per window, as librosa.power_to_db: silence floors instead of -100 dB noise.
    log_mel = np.maximum(log_mel, log_mel.max(axis=(1, 2), keepdims=True) - 80.0)
    onset = np.maximum(np.diff(log_mel, axis=1), 0).mean(axis=2)

    # Key-invariant chroma: rotate each window's profile so its strongest pitch class comes
    # first; intervals survive, the key (which says nothing about the kind of music) does not.
    chroma = _chroma(power, plan)
    top = np.argmax(chroma, axis=1)[:, None]
    chroma = np.take_along_axis(chroma, (top + np.arange(12)) % 12, axis=1)

    parts = [
        _mfcc_stats(log_mel @ plan.dct),
        np.column_stack(_spectral_shape(mag, power, plan) + _waveform(windows, plan)),
        np.column_stack(_contrast(mag, plan)),
        chroma,
        np.column_stack([onset.mean(axis=1), *_tempo(onset, plan)]),
    ]
    return np.concatenate(parts, axis=1).astype(np.float32)
