"""A recorded run read back from the store: its tracks, in the run's own reduced space."""

from __future__ import annotations

import numpy as np

from ..errors import ClusterError
from ..store import Store
from .fit import Model


def run_space(store: Store, run: dict) -> tuple[list[str], np.ndarray, np.ndarray, dict[int, str]]:
    """The run's tracks, their vectors in the run's reduced space, numbers and names."""
    assigned = store.assignments(run["id"])
    if not assigned:
        raise ClusterError(f"run {run['id']} has no tracks")
    paths, vecs = store.matrix(sorted(assigned), run["backend"], run["version"])
    if not paths:
        raise ClusterError("the vectors of the last run are gone (re-analysed with another "
                           "version?); run `beet cluster` again")
    numbers = np.array([assigned[p][0] for p in paths])
    names = {assigned[p][0]: assigned[p][2] for p in paths}
    return paths, Model.from_bytes(run["model"]).transform(np.stack(vecs)), numbers, names
