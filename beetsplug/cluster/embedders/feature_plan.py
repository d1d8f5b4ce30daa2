"""What the hand-crafted features need that depends only on the sample rate.

Filter banks (mel, chroma, DCT), contrast bands, the tempo search's lags and prior and the
rolloff's block matrix: built once per rate and cached, reused for every batch of windows.

The mel and chroma banks are librosa's (`librosa.filters.mel`, Slaney; `librosa.filters.chroma`,
tuning 0), the same arithmetic written out here: importing librosa in an analysis worker loads
numba and llvmlite, about 190 MiB resident in each worker for two small matrices.
tests/test_feature_plan.py holds them equal to librosa's.
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
    # Here, not at the top: naming the features (the backend's version) needs no scipy.
    import scipy.fft

    # ~93 ms frames with 50 % overlap at any rate: 1024 points at 11025 Hz, 2048 at 22050 Hz.
    n_fft = 1 << int(np.ceil(np.log2(0.09 * sr)))
    hop = n_fft // 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel = mel_bank(sr, n_fft, N_MELS).T
    chroma = chroma_bank(sr, n_fft).T
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


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear to 1 kHz, logarithmic above (librosa's hz_to_mel)."""
    mels = hz / (200.0 / 3)
    log = hz >= 1000.0
    mels[log] = 1000.0 / (200.0 / 3) + np.log(hz[log] / 1000.0) / (np.log(6.4) / 27.0)
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    hz = (200.0 / 3) * mels
    log = mels >= 1000.0 / (200.0 / 3)
    hz[log] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mels[log] - 1000.0 / (200.0 / 3)))
    return hz


def mel_bank(sr: int, n_fft: int, n_mels: int, fmin: float = 0.0,
             fmax: float | None = None) -> np.ndarray:
    """(n_mels, bins) float32: librosa.filters.mel(sr=, n_fft=, n_mels=, fmin=, fmax=), Slaney
    triangles from fmin to fmax (Nyquist), each scaled to constant energy."""
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    edges = _hz_to_mel(np.asarray([fmin, sr / 2.0 if fmax is None else fmax], dtype=float))
    mel_f = _mel_to_hz(np.linspace(edges[0], edges[1], n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, len(fftfreqs)), dtype=np.float32)
    for i in range(n_mels):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / fdiff[i], ramps[i + 2] / fdiff[i + 1]))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights


def chroma_bank(sr: int, n_fft: int, n_chroma: int = 12) -> np.ndarray:
    """(n_chroma, bins) float32: librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0), C first:
    Gaussian bumps per pitch class, columns L2-normalised, weighted around octave 5."""
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    frqbins = n_chroma * np.log2(frequencies / (440.0 / 16))
    # the 0 Hz bin: 1.5 octaves below bin 1, so it is spread broadly
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    d = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
    half = np.round(float(n_chroma) / 2)
    d = np.remainder(d + half + 10 * n_chroma, n_chroma) - half
    wts = np.exp(-0.5 * (2 * d / np.tile(binwidthbins, (n_chroma, 1))) ** 2)
    length = np.sum(np.abs(wts) ** 2, axis=0, keepdims=True) ** 0.5
    length[length < np.finfo(wts.dtype).tiny] = 1.0
    wts = wts / length
    wts *= np.tile(np.exp(-0.5 * ((frqbins / n_chroma - 5.0) / 2) ** 2), (n_chroma, 1))
    wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(wts[:, : int(1 + n_fft / 2)], dtype=np.float32)
