"""From fitted labels to a run's numbers and names: stable across reclusters, unique, file-safe.

Numbers: each new cluster takes the number of the previous run's cluster it shares most tracks
with (Hungarian matching), and that cluster's name when the naming template is unchanged, so
"03 rock · guitar" stays the same playlist when a few tracks are added.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import fit as clustering
from . import identity as identities
from . import naming

NOISE = -1


def stable_numbers(paths: list[str], labels: np.ndarray, previous: Mapping[str, int] | None,
                   model: clustering.Model, previous_model: clustering.Model | None = None,
                   ) -> tuple[dict[int, int], float | None]:
    """label -> cluster number, and the ARI between the previous and the new assignment.

    Shared tracks decide; where a new cluster shares none with any old one, the nearest old
    centroid (mapped into this run's space) stands in, so the same k keeps the same numbers.
    """
    clusters = sorted({int(x) for x in labels if x != NOISE})
    if not previous:
        return {c: c + 1 for c in clusters}, None
    new = {p: int(x) for p, x in zip(paths, labels) if x != NOISE}
    old = {p: c for p, c in previous.items() if c != NOISE}
    centroids = {}
    if previous_model is not None and previous_model.mean.shape == model.mean.shape:
        old_in_new = model.transform(previous_model.raw_centroids())
        centroids = {"old_centroids": dict(zip(previous_model.numbers.tolist(), old_in_new)),
                     "new_centroids": dict(enumerate(model.centroids))}
    mapping = identities.match_clusters(old, new, **centroids)
    numbered = {p: mapping[c] for p, c in new.items()}
    ari = identities.assignment_ari(old, numbered)
    return {c: mapping[c] for c in clusters}, None if np.isnan(ari) else float(ari)


def playlist_names(labels: np.ndarray, numbers: Mapping[int, int], *, template: str,
                   previous_names: Mapping[int, str] | None = None,
                   tags: np.ndarray | None = None, tag_names: tuple[str, ...] = (),
                   descriptors: Mapping[str, np.ndarray] | None = None,
                   fields: Mapping[str, list] | None = None) -> dict[int, str]:
    """cluster number -> a unique, file-safe playlist name.

    Raises ValueError for a template with an unknown field (a config error).
    """
    described = naming.name_clusters(labels, tags=tags, tag_names=tag_names,
                                     descriptors=descriptors, fields=fields)
    sizes = {numbers[c]: int((labels == c).sum()) for c in numbers}
    fresh = naming.apply_template({numbers[c]: described[c] for c in numbers}, template, sizes)
    kept = previous_names or {}
    names = {n: kept.get(n, fresh[n]) for n in fresh}
    return naming.safe_filenames(names)
