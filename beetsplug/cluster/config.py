"""Every option of the plugin and the daemon, with its default. No I/O here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

AGGREGATES = ("chunk_average", "chunk_level")
# The names of clustering.methods.REGISTRY, spelled out so that reading the config (the
# plugin does at load time) imports no scikit-learn; a test checks that the two agree.
METHODS = ("kmeans", "agglomerative", "gmm", "dbscan", "hdbscan", "autoencoder")
PATH_MODES = ("playlist", "library", "absolute", "prefix")


@dataclass(frozen=True)
class Settings:
    # Clustering
    n_clusters: int | None = 6  # None: choose k by silhouette over k_range
    k_range: tuple[int, int] = (2, 12)
    method: str = "kmeans"
    aggregate: str = "chunk_average"
    pca_variance: float = 0.95
    minibatch_threshold: int = 20_000  # tracks (or windows) above which MiniBatchKMeans is used
    seed: int = 0

    # Analysis
    backend: str = "handcrafted"
    window_seconds: float | None = None  # None: the backend's own window length
    padding_threshold: float = 0.5  # keep a short last window if at least this much is present
    max_windows: int | None = None  # fixed cap per track; None: use window_quantile
    window_quantile: float = 0.25  # cap = windows in this quantile of the library's durations
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    model: str | None = None  # backend-specific model name, directory or checkpoint file
    device: str = "auto"
    cache_dir: Path | None = None  # converted model weights (musicnn); the front end picks it

    # Output
    store_path: Path = Path("cluster.db")
    playlist_dir: Path = Path("playlists")
    playlist_template: str = "{number:02d} {name}"
    path_mode: str = "playlist"
    path_prefix: str = ""
    url_encode: bool = False
    library_root: Path | None = None
    write_grouping: bool = False

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    def check(self) -> None:
        """Raise ValueError with a clear line for any option out of range."""
        if self.n_clusters is not None and self.n_clusters < 1:
            raise ValueError(f"the number of clusters must be at least 1, not {self.n_clusters}")
        if not 2 <= self.k_range[0] <= self.k_range[1]:
            raise ValueError(f"auto_range must be two numbers 2 <= low <= high, not {self.k_range}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}")
        if self.path_mode not in PATH_MODES:
            raise ValueError(f"path_mode must be one of {', '.join(PATH_MODES)}")
        if not 0.0 < self.padding_threshold <= 1.0:
            raise ValueError("padding_threshold must be in (0, 1]")
        if not 0.0 < self.window_quantile <= 1.0:
            raise ValueError("window_quantile must be in (0, 1]")
        if not 0.0 < self.pca_variance <= 1.0:
            raise ValueError("pca_variance must be in (0, 1]")
        if self.max_windows is not None and self.max_windows < 1:
            raise ValueError("max_windows must be at least 1")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        try:
            self.playlist_template.format(number=1, name="name", size=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"playlist_template {self.playlist_template!r}: {exc!r} (fields: "
                             "number, name, size)") from exc
