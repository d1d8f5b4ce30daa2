"""A recorded run read back from the store: its tracks in the run's own reduced space, the
measures people judge a clustering by, and its map."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import ClusterError
from ..output import plot
from ..store import Store
from . import quality
from .fit import Model


def last_run(store: Store, backend: str | None = None) -> dict:
    """The last recorded run (of `backend`, when given)."""
    run = store.last_run(backend)
    if run is None:
        raise ClusterError(f"no {backend + ' ' if backend else ''}run to judge yet: "
                           "run `beet cluster` first")
    return run


def run_space(store: Store, run: dict) -> tuple[list[str], np.ndarray, np.ndarray, dict[int, str]]:
    """The run's tracks, their vectors in the run's reduced space, numbers and names."""
    assigned = store.assignments(run["id"])
    if not assigned:
        raise ClusterError(f"run {run['id']} has no tracks")
    if run["aggregate"] == "chunk_level":  # the model is the windows': a track, their mean
        paths, mats = store.matrix(sorted(assigned), run["backend"], run["version"],
                                   windows=True)
        X = np.stack([m.mean(axis=0) for m in mats]) if mats else None
    else:  # (a pooled backend's track vector is not a window's size)
        paths, X = store.vectors(sorted(assigned), run["backend"], run["version"])
    if not paths:
        raise ClusterError("the vectors of the last run are gone (re-analysed with another "
                           "version?); run `beet cluster` again")
    numbers = np.array([assigned[p][0] for p in paths])
    names = {assigned[p][0]: assigned[p][2] for p in paths}
    return paths, Model.from_bytes(run["model"]).transform(X), numbers, names


def evaluate(store: Store, run: dict, truth: Mapping[str, object] | None = None,
             label_field: str = "label") -> dict:
    """Internal measures always; external ones against `truth` (path -> label) when given.
    A field no track of the run has is an error: a table of n/a would look fine."""
    paths, P, numbers, _ = run_space(store, run)
    measures = dict(quality.internal_measures(P, numbers))
    if truth is not None:
        if all(truth.get(p) in (None, "") for p in paths):
            raise ClusterError(f"no track of run {run['id']} has a value for {label_field!r}: "
                               "check the field name (`beet fields` lists them)")
        measures.update(quality.external_measures([truth.get(p) for p in paths], numbers))
    return measures


def draw(store: Store, run: dict, out: Path, projection: str = "pca",
         html: bool = False) -> list[Path]:
    _, P, numbers, names = run_space(store, run)
    return plot.plot_map(P, numbers, names, out, method=projection, html=html)
