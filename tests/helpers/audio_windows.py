"""Real windows for the deep-backend tests: the first seconds of real clips, decoded once."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np


def clip_windows(clips: list[Path], sample_rate: int, seconds: float, per_clip: int) -> np.ndarray:
    """`per_clip` consecutive windows from the start of each clip, (n, samples) float32 mono."""
    size = round(sample_rate * seconds)
    rows = []
    for clip in clips:
        y, _ = librosa.load(clip, sr=sample_rate, mono=True, duration=seconds * per_clip)
        rows.extend(y[i * size : (i + 1) * size] for i in range(per_clip))
    return np.stack(rows).astype(np.float32)
