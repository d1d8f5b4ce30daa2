"""What the hand-crafted features need that depends only on the sample rate.

Filter banks (mel, chroma, DCT), contrast bands, the tempo search's lags and prior and the
rolloff's block matrix: built once per rate and cached, reused for every batch of windows.

The mel and chroma banks are the ones librosa makes (`librosa.filters.mel`, Slaney;
`librosa.filters.chroma`, tuning 0), built here from their definitions: importing librosa in an
analysis worker loads numba and llvmlite, about 190 MiB resident in each worker for two small
matrices. tests/analysis/test_feature_plan.py holds them to librosa's within float32 rounding.
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


# Slaney's mel scale (Auditory Toolbox): linear below 1 kHz at 200/3 Hz a mel, then a fixed
# ratio of 6.4 every 27 mels.
_LINEAR_HZ_PER_MEL = 200.0 / 3
_BREAK_HZ = 1000.0
_BREAK_MEL = _BREAK_HZ / _LINEAR_HZ_PER_MEL  # 15
_LOG_STEP = np.log(6.4) / 27.0


def _mel(hz: np.ndarray) -> np.ndarray:
    above = np.maximum(hz, _BREAK_HZ)  # log of the break where hz is below it: no warning
    return np.where(hz < _BREAK_HZ, hz / _LINEAR_HZ_PER_MEL,
                    _BREAK_MEL + np.log(above / _BREAK_HZ) / _LOG_STEP)


def _hz(mel: np.ndarray) -> np.ndarray:
    return np.where(mel < _BREAK_MEL, mel * _LINEAR_HZ_PER_MEL,
                    _BREAK_HZ * np.exp(_LOG_STEP * (mel - _BREAK_MEL)))


def mel_bank(sr: int, n_fft: int, n_mels: int, fmin: float = 0.0,
             fmax: float | None = None) -> np.ndarray:
    """(n_mels, bins) float32, librosa.filters.mel's bank (Slaney scale and area): triangles
    whose corners are n_mels + 2 points evenly spaced in mels from fmin to fmax (Nyquist), each
    scaled by 2 / its width so that every filter passes the same energy."""
    bin_hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    top = sr / 2.0 if fmax is None else fmax
    corners = _hz(np.linspace(*_mel(np.array([fmin, top], dtype=float)), n_mels + 2))
    lower, centre, upper = corners[:-2, None], corners[1:-1, None], corners[2:, None]
    rising = (bin_hz - lower) / (centre - lower)
    falling = (upper - bin_hz) / (upper - centre)
    bank = np.clip(np.minimum(rising, falling), 0.0, None) * (2.0 / (upper - lower))
    return bank.astype(np.float32)


def chroma_bank(sr: int, n_fft: int, n_chroma: int = 12) -> np.ndarray:
    """(n_chroma, bins) float32, librosa.filters.chroma's bank at tuning 0 (Dan Ellis'
    fft2chromamx): each FFT bin spreads over the pitch classes as a Gaussian in pitch whose
    width is the bin's own width in pitch (at least one class); each bin's column has unit
    length, and bins far from octave 5 (A4 = 440 Hz) weigh less. Row 0 is C."""
    bins = n_fft // 2 + 1
    # each bin's pitch in chroma steps above A0/2 (27.5 / 2 Hz); one bin past the last kept one
    # gives the last one its width
    hz = np.arange(1, bins + 1) * (sr / n_fft)
    pitch = n_chroma * np.log2(hz / (440.0 / 16))
    pitch = np.concatenate(([pitch[0] - 1.5 * n_chroma], pitch))  # 0 Hz: far below bin 1
    width = np.maximum(np.diff(pitch), 1.0)
    pitch = pitch[:bins]
    half = round(n_chroma / 2)
    # signed distance from each class to each bin, wrapped into [-half, n_chroma - half)
    to_class = (pitch[None, :] - np.arange(n_chroma)[:, None] + half) % n_chroma - half
    bank = np.exp(-0.5 * (2.0 * to_class / width) ** 2)
    bank /= np.maximum(np.linalg.norm(bank, axis=0), np.finfo(float).tiny)
    bank *= np.exp(-0.5 * ((pitch / n_chroma - 5.0) / 2.0) ** 2)
    c_first = -3 * (n_chroma // 12)  # the classes count from A; C is three above
    return np.roll(bank, c_first, axis=0).astype(np.float32)
