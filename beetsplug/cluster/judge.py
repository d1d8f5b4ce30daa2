"""Judge and draw a recorded run: the measures people use, and a 2-D map of the tracks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from . import clustering, evaluation, plot
from .errors import ClusterError
from .store import Store


def run_space(store: Store, run: dict) -> tuple[list[str], np.ndarray, np.ndarray, dict[int, str]]:
    """The run's tracks, their vectors in the run's own reduced space, numbers and names."""
    assigned = store.assignments(run["id"])
    if not assigned:
        raise ClusterError(f"run {run['id']} has no tracks")
    paths, vecs = store.matrix(sorted(assigned), run["backend"], run["version"])
    if not paths:
        raise ClusterError("the vectors of the last run are gone (re-analysed with another "
                           "version?); run `beet cluster` again")
    model = clustering.Model.from_bytes(run["model"])
    numbers = np.array([assigned[p][0] for p in paths])
    names = {assigned[p][0]: assigned[p][2] for p in paths}
    return paths, model.transform(np.stack(vecs)), numbers, names


def evaluate(store: Store, run: dict, truth: Mapping[str, object] | None = None,
             label_field: str = "label") -> dict:
    """Internal measures always; external ones against `truth` (path -> label) when given.

    Raises ClusterError when no track of the run has a label: a table of n/a would read as if
    the field were fine (`--labels genre` on a beets that keeps genres elsewhere, a typo).
    """
    paths, P, numbers, _ = run_space(store, run)
    measures = dict(evaluation.internal_measures(P, numbers))
    if truth is not None:
        if all(truth.get(p) in (None, "") for p in paths):
            raise ClusterError(f"no track of run {run['id']} has a value for {label_field!r}: "
                               "check the field name (`beet fields` lists them)")
        external = evaluation.external_measures([truth.get(p) for p in paths], numbers)
        measures.update(external)
    return measures


def draw(store: Store, run: dict, out: Path, projection: str = "pca",
         html: bool = False) -> list[Path]:
    _, P, numbers, names = run_space(store, run)
    return plot.plot_map(P, numbers, names, out, method=projection, html=html)
