"""What the hand-crafted features need that depends only on the sample rate.

Filter banks (mel, chroma, DCT), contrast bands, the tempo search's lags and prior and the
rolloff's block matrix: built once per rate and cached, reused for every batch of windows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# A third of the cost of 22050 Hz; measured no better clusters at 22050 Hz on emotify-dev.
SAMPLE_RATE = 11025
WINDOW_SECONDS = 5.0
N_MFCC = 20
N_DELTA = 13  # delta variance of the low-order (spectral envelope) coefficients only
N_MELS = 64
ROLLOFF = 0.85
CONTRAST_FMIN = 200.0
CONTRAST_QUANTILE = 0.02
TEMPO_RANGE = (30.0, 300.0)  # BPM searched by the autocorrelation
MIN_SECONDS = 1.0  # shorter windows leave the tempo search no lags to look at
BLOCK = 16  # bins per block in the rolloff search


@dataclass(frozen=True)
class SpectralPlan:
    """Everything that depends only on the sample rate: built once, reused for every batch."""

    sr: int
    n_fft: int
    hop: int
    window: np.ndarray  # (n_fft,) periodic Hann
    freqs: np.ndarray  # (bins,) Hz
    mel: np.ndarray  # (bins, N_MELS), transposed for a right-multiplication
    chroma: np.ndarray  # (bins, 12), C first, tuning 0
    dct: np.ndarray  # (N_MELS, N_MFCC), orthonormal DCT-II
    bands: tuple[tuple[int, int], ...]  # contrast sub-bands as bin slices
    lags: np.ndarray  # autocorrelation lags (frames) covering TEMPO_RANGE
    prior: np.ndarray  # log-normal tempo prior per lag, centred on 120 BPM
    blocks: np.ndarray  # (bins, ceil(bins / BLOCK)) 0/1 block-sum matrix for the rolloff
    ones: np.ndarray  # (n_fft,) for frame sums through einsum


def contrast_edges(sr: int) -> list[float]:
    """Octave bands from CONTRAST_FMIN, as librosa's spectral_contrast; the last one runs to
    Nyquist, so the number of bands follows the sample rate (5 at 11025 Hz, 7 at 22050 Hz)."""
    edges = [0.0, CONTRAST_FMIN]
    while edges[-1] * 4 <= sr / 2:
        edges.append(edges[-1] * 2)
    return [*edges, sr / 2 + 1]


@lru_cache(maxsize=4)
def spectral_plan(sr: int) -> SpectralPlan:
    # Here, not at the top: naming the features (the backend's version) needs neither.
    import librosa
    import scipy.fft

    # ~93 ms frames with 50 % overlap at any rate: 1024 points at 11025 Hz, 2048 at 22050 Hz.
    n_fft = 1 << int(np.ceil(np.log2(0.09 * sr)))
    hop = n_fft // 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=N_MELS).T.astype(np.float32)
    chroma = librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0).T.astype(np.float32)
    dct = scipy.fft.dct(np.eye(N_MELS), type=2, norm="ortho", axis=0)[:, :N_MFCC]
    edges = contrast_edges(sr)
    bands = tuple(
        (int(np.searchsorted(freqs, lo)), int(np.searchsorted(freqs, hi, side="right")))
        for lo, hi in itertools.pairwise(edges)
    )
    fps = sr / hop
    lags = np.arange(int(60 * fps / TEMPO_RANGE[1]), int(np.ceil(60 * fps / TEMPO_RANGE[0])) + 1)
    bpm = 60 * fps / lags
    prior = np.exp(-0.5 * np.log2(bpm / 120.0) ** 2)  # one octave std, as librosa's tempo
    n_bins = len(freqs)
    blocks = np.zeros((n_bins, -(-n_bins // BLOCK)), dtype=np.float32)
    blocks[np.arange(n_bins), np.arange(n_bins) // BLOCK] = 1.0
    return SpectralPlan(
        sr,
        n_fft,
        hop,
        np.hanning(n_fft + 1)[:-1].astype(np.float32),
        freqs.astype(np.float32),
        mel,
        chroma,
        dct.astype(np.float32),
        bands,
        lags,
        prior.astype(np.float32),
        blocks,
        np.ones(n_fft, dtype=np.float32),
    )
