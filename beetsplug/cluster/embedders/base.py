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


class Embedder(ABC):
    """A backend turns fixed-length mono windows into vectors.

    Class attributes describe what the pipeline must feed it; `version` changes whenever the
    output for the same audio would change, so the store never mixes vectors of two versions.
    """

    name: str
    version: str
    sample_rate: int
    window_seconds: float
    dim: int
    tag_names: tuple[str, ...] = ()
    batch_windows: int = 32  # how many windows the pipeline should hand over at once
    # Columns of the vector that name a playlist by ear ("tempo", "brightness", "energy").
    descriptor_columns: ClassVar[dict[str, int]] = {}

    @abstractmethod
    def embed(self, windows: np.ndarray) -> Embedding:
        """windows: (n, window_samples) float32 at `sample_rate`; returns one row per window."""
