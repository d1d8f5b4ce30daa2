"""The filter banks are librosa's (within float32 rounding: 1 part in 10^7 of the largest
weight), and an analysis worker
never imports librosa (numba and llvmlite with it: about 190 MiB resident per worker)."""

from __future__ import annotations

import os
import subprocess
import sys

import librosa
import numpy as np
import pytest
from conftest import REPO

from beetsplug.cluster.embedders.feature_plan import N_MELS, chroma_bank, mel_bank, spectral_plan


def _same(ours: np.ndarray, librosas: np.ndarray) -> None:
    assert ours.shape == librosas.shape
    np.testing.assert_allclose(ours, librosas, rtol=0, atol=1e-6 * float(librosas.max()))


@pytest.mark.parametrize("sr", [8000, 11025, 16000, 22050, 44100])
@pytest.mark.parametrize("n_fft", [512, 1024, 2048])
def test_banks_equal_librosas(sr, n_fft):
    mel = mel_bank(sr, n_fft, N_MELS)
    assert mel.dtype == np.float32
    _same(mel, librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=N_MELS))
    chroma = chroma_bank(sr, n_fft)
    assert chroma.dtype == np.float32
    _same(chroma, librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0))


@pytest.mark.parametrize(("sr", "n_fft", "n_mels", "fmin", "fmax"), [
    (16000, 512, 96, 0.0, None),  # musicnn
    (32000, 1024, 64, 50.0, 14000.0),  # PANNs CNN14
])
def test_the_deep_backends_mel_banks_equal_librosas(sr, n_fft, n_mels, fmin, fmax):
    _same(mel_bank(sr, n_fft, n_mels, fmin, fmax),
          librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                              fmax=fmax))


def test_plan_holds_the_banks_transposed():
    p = spectral_plan(11025)
    _same(p.mel, librosa.filters.mel(sr=11025, n_fft=p.n_fft, n_mels=N_MELS).T)
    _same(p.chroma, librosa.filters.chroma(sr=11025, n_fft=p.n_fft, tuning=0).T)


def test_a_worker_analyses_a_file_without_librosa_or_numba(tmp_path):
    """What a local analysis worker runs for the default backend, in a fresh interpreter."""
    import soundfile as sf

    t = np.arange(3 * 11025) / 11025
    sf.write(tmp_path / "a.flac", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 11025)
    code = f"""
import os, sys
from beetsplug.cluster.analysis.per_file import Job, analyse_file
st = os.stat({str(tmp_path / "a.flac")!r})
d = analyse_file(Job({str(tmp_path / "a.flac")!r}, st.st_size, st.st_mtime, None,
                     "handcrafted", (), 11025, 1.0, 0.5, 8, True))
assert d.error is None and d.windows is not None and len(d.windows), d
print(sorted(m for m in ("librosa", "numba", "llvmlite", "sklearn", "torch") if m in sys.modules))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path, env=env)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
