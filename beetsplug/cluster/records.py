"""What the core takes and gives back: a Track in; an AnalysisReport and a ClusterRun out; an
Analysis, what one file's analysis stores; a RecordedRun, a run as the store keeps it; an
Assignment, one track's place in a run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:  # not at run time: it would import scikit-learn for every front end
    from .clustering.choose_k import KScan
    from .clustering.fit import Model


class Assignment(NamedTuple):
    """One track's place in a run."""

    cluster: int  # the cluster's number, 1..k
    distance: float  # to its centre
    playlist: str  # the playlist's name


@dataclass(frozen=True)
class RecordedRun:
    """A run as the store recorded it: read once, its params decoded once, its model decoded
    on first use (that loads scikit-learn; a placement by it needs it, a look at `k` not)."""

    id: int
    backend: str
    version: str
    k: int
    method: str
    aggregate: str
    params: dict  # pca_variance, seed, template, scan, previous_ari, names
    model_bytes: bytes = field(repr=False)
    created: float | None = None

    @classmethod
    def from_row(cls, row: dict) -> RecordedRun:
        return cls(row["id"], row["backend"], row["version"], row["k"], row.get("method"),
                   row.get("aggregate"), json.loads(row.get("params") or "{}"),
                   row.get("model"), row.get("created"))

    @property
    def windowed(self) -> bool:
        return self.aggregate == "chunk_level"

    @property
    def names(self) -> dict[int, str]:
        """Cluster number -> playlist name, even for a cluster that ended with no tracks."""
        return {int(c): n for c, n in self.params.get("names", {}).items()}

    @cached_property
    def model(self) -> Model:
        from .clustering.fit import Model

        return Model.from_bytes(self.model_bytes)


@dataclass(frozen=True)
class Track:
    path: str  # absolute, as the file system spells it (os.fsdecode of beets' bytes)
    item_id: int | None = None
    duration: float | None = None  # a hint for the window cap (beets knows it without decoding)
    display_name: str | None = None  # "artist - title", or either alone
    fields: dict | None = None  # beets fields (genre, year, ...) for names
    # The beets Item, for the one write-back through beets; None for a file beets does not know.
    item: Any = field(default=None, compare=False, repr=False)


@dataclass
class AnalysisReport:
    total: int = 0
    cached: int = 0
    moved: int = 0
    retagged: int = 0  # changed files whose audio is the same: re-stamped, not re-analysed
    analysed: int = 0  # files decoded this run
    failed: list[tuple[str, str]] = field(default_factory=list)  # new failures this run
    known_failures: list[tuple[str, str]] = field(default_factory=list)  # not retried
    missing: list[str] = field(default_factory=list)  # in the query, not on disk
    # (path, why): no read permission, an I/O error; not recorded, tried again next run
    unreadable: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ClusterRun:
    run_id: int | None  # None until recorded, which happens only after its playlists are written
    k: int
    assignments: dict[str, Assignment]
    playlists: dict[str, list[str]]  # name -> paths, closest to the centre first
    unclustered: list[str]  # tracks of the query with no vector (failed or missing)
    noise: list[str] = field(default_factory=list)  # density methods: in no playlist
    scan: KScan | None = None  # the k scan of `-n auto`
    previous_ari: float | None = None  # agreement with the previous run, on shared tracks
    record: dict = field(default_factory=dict, repr=False)  # the store's `runs` row, to save
    files: list[Path] = field(default_factory=list)  # the playlists written, once exported
    # each written file's track count: what the summary prints, never read back from the
    # files (another run may replace them at any time)
    listed: dict[Path, int] = field(default_factory=dict)
    changed: int = 0  # tracks in another playlist than in the previous run (or in none)
    unchanged: bool = False  # the last run, standing: nothing changed, nothing was written


class Updated(NamedTuple):
    """What `Library.update` did: the analysis, then the run (only planned, with pretend)."""

    report: AnalysisReport
    run: ClusterRun


@dataclass
class Placement:
    """What `place` did: each placed track's assignment, how many tracks the store did not
    know before (a changed file is not new), the files that failed, and those analysed but
    not placed because their playlist line could not be written (path, why)."""

    assigned: dict[str, Assignment] = field(default_factory=dict)
    new: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # tried again next time
    unplaced: list[tuple[str, str]] = field(default_factory=list)  # no line: tried again


@dataclass(frozen=True)
class Analysis:
    """What one file's analysis produced (a vector, or the error that stopped it)."""

    path: str
    size: int
    mtime: float
    backend: str
    version: str
    duration: float | None = None
    item_id: int | None = None
    vector: np.ndarray | None = None  # (dim,) float32
    windows: np.ndarray | None = None  # (n_windows, dim) float32, for chunk_level
    tags: np.ndarray | None = None  # (n_tags,) probabilities, when the backend has tags
    error: str | None = None
    fingerprint: str | None = None  # audio.fingerprint of the file as analysed
