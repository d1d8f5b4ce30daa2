"""The interface every track-vector backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import ClusterError


class EmbedderError(ClusterError):
    """A backend cannot be built (missing weights or extra); the message says how to fix it."""


@dataclass(frozen=True)
class Embedding:
    """What a backend returns for a batch of windows."""

    vectors: np.ndarray  # (n_windows, dim) float32
    tags: np.ndarray | None = (
        None  # (n_windows, len(tag_names)) probabilities, if the model has tags
    )


POOLINGS = ("mean", "mean_std")


def pool(windows: np.ndarray, how: str) -> np.ndarray:
    """A track's window vectors (n, dim) -> its one vector: the mean of each column, or
    ("mean_std") the mean and then the spread (std) of each column, 2 x dim. The spread says
    what a mean cannot: whether a track keeps one sound or moves between several."""
    windows = np.asarray(windows, dtype=np.float32)
    if how == "mean":
        return windows.mean(axis=0)
    if how == "mean_std":
        return np.concatenate([windows.mean(axis=0), windows.std(axis=0)])
    raise ValueError(f"pooling must be one of {POOLINGS}, not {how!r}")


class Embedder(ABC):
    """A backend turns fixed-length mono windows into vectors.

    Class attributes describe what the analysis must feed it; `version` changes whenever the
    output for the same audio would change, so the store never mixes vectors of two versions.
    """

    name: str
    version: str
    sample_rate: int
    window_seconds: float
    window_dim: int
    tag_names: tuple[str, ...] = ()
    batch_windows: int = 32  # how many windows the analysis should hand over at once
    # Columns of the vector that name a playlist by ear ("tempo", "brightness", "energy").
    descriptor_columns: ClassVar[dict[str, int]] = {}
    # How the windows become the stored track vector (`pool`); what a backend stores, so a
    # backend that changes it changes its `version` too. `window_dim` is a window's size.
    pooling: ClassVar[str] = "mean"
    # Windows kept per track when the user sets no `max_windows`, evenly spread over it; None:
    # as many as the library's `window_quantile` length holds. Each backend's count is the
    # fewest its measured curve keeps within noise of more (README). What a backend stores
    # depends on it, so a backend that sets or changes it names it in its `version`.
    windows_per_track: int | None = None

    @property
    def vector_dim(self) -> int:
        """The size of a stored track vector."""
        return self.window_dim * (2 if self.pooling == "mean_std" else 1)

    def pool(self, windows: np.ndarray) -> np.ndarray:
        return pool(windows, self.pooling)

    @abstractmethod
    def embed(self, windows: np.ndarray) -> Embedding:
        """windows: (n, window_samples) float32 at `sample_rate`; returns one row per window."""
