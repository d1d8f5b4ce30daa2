"""A recorded run read back from the store: its tracks in the run's own reduced space, the
measures people judge a clustering by, and its map."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import embedders
from ..errors import ClusterError
from ..output import plot
from ..records import RecordedRun
from ..store import Store
from . import quality


def last_run(store: Store, backend: str | None = None) -> RecordedRun:
    """The last recorded run (of `backend`, when given)."""
    run = store.last_run(backend)
    if run is None:
        raise ClusterError(f"no {backend + ' ' if backend else ''}run to judge yet: "
                           "run `beet cluster` first")
    return run


class RunSpace(NamedTuple):
    paths: list[str]
    vectors: np.ndarray  # as stored (a windowed run: each track's mean window)
    P: np.ndarray  # in the run's reduced space
    numbers: np.ndarray
    names: dict[int, str]


def run_space(store: Store, run: RecordedRun) -> RunSpace:
    """The run's tracks, their vectors as stored and in the run's reduced space, numbers and
    names."""
    assigned = store.assignments(run.id)
    if not assigned:
        raise ClusterError(f"run {run.id} has no tracks")
    if run.windowed:  # the model is the windows': a track, their mean
        paths, mats = store.arrays(sorted(assigned), run.backend, run.version, windows=True)
        X = np.stack([m.mean(axis=0) for m in mats]) if mats else None
    else:  # (a pooled backend's track vector is not a window's size)
        paths, X = store.vector_matrix(sorted(assigned), run.backend, run.version)
    if not paths:
        raise ClusterError("the vectors of the last run are gone (re-analysed with another "
                           "version?); run `beet cluster` again")
    numbers = np.array([assigned[p].cluster for p in paths])
    names = {assigned[p].cluster: assigned[p].playlist for p in paths}
    return RunSpace(paths, X, run.model.transform(X), numbers, names)


def evaluate(store: Store, run: RecordedRun, truth: Mapping[str, object] | None = None,
             label_field: str = "label") -> dict:
    """Internal measures always; external ones against `truth` (path -> label) when given.
    A field no track of the run has is an error: a table of n/a would look fine."""
    paths, _, P, numbers, _ = run_space(store, run)
    measures = dict(quality.internal_measures(P, numbers))
    if truth is not None:
        if all(truth.get(p) in (None, "") for p in paths):
            raise ClusterError(f"no track of run {run.id} has a value for {label_field!r}: "
                               "check the field name (`beet fields` lists them)")
        measures.update(quality.external_measures([truth.get(p) for p in paths], numbers))
    return measures


def draw(store: Store, run: RecordedRun, out: Path, projection: str = "pca", html: bool = False,
         titles: Mapping[str, str] | None = None) -> list[Path]:
    """The run's map; `titles` (path -> "artist - title") name the tracks on the HTML page, a
    track without one by its file name."""
    space = run_space(store, run)
    shown = [(titles or {}).get(p) or os.path.splitext(os.path.basename(p))[0]
             for p in space.paths]
    return plot.plot_map(space.P, space.numbers, space.names, out, method=projection,
                         html=html, titles=shown, describers=describers(store, run, space))


def describers(store: Store, run: RecordedRun, space: RunSpace) -> plot.Describers:
    """What the map's axes are read by: the backend's descriptor columns (those playlists are
    named from) and its stored tag probabilities, for the run's tracks."""
    dim = space.vectors.shape[1]
    descriptors = {key: space.vectors[:, col]
                   for key, col in embedders.descriptor_columns(run.backend).items()
                   if col < dim}
    tag_names = store.tag_names(run.backend, run.version)
    found = store.tags(space.paths, run.backend, run.version) if tag_names else {}
    tags = None
    if found and len(found) == len(space.paths):
        tags = np.stack([found[p] for p in space.paths])
        if tags.shape[1] != len(tag_names):
            tags = None
    return plot.Describers(descriptors, tags, tag_names if tags is not None else ())
