"""From fitted labels to a run's numbers and names: stable across reclusters, unique, file-safe.

Numbers are always 1..k: each new cluster takes the number of the previous run's cluster it
shares most tracks with (Hungarian matching) wherever that number is still <= k, and that
cluster's name when the naming template is unchanged, so "03 rock · guitar" stays the same
playlist when a few tracks are added. The other clusters take the free numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from . import NOISE, naming
from . import fit as clustering
from . import identity as identities


class Numbers(dict):
    """label -> cluster number; `continued`: the numbers whose cluster continues the previous
    run's cluster of that number (the one it shares most with), so it may keep its name."""

    def __init__(self, mapping: Mapping[int, int], continued: Iterable[int] = ()):
        super().__init__(mapping)
        self.continued = frozenset(continued)


def stable_numbers(paths: list[str], labels: np.ndarray, previous: Mapping[str, int] | None,
                   model: clustering.Model, previous_model: clustering.Model | None = None,
                   ) -> tuple[Numbers, float | None]:
    """label -> cluster number (1..k), and the ARI between the previous and the new assignment.

    Shared tracks decide; where a new cluster shares none with any old one, the nearest old
    centroid (mapped into this run's space) stands in, so the same k keeps the same numbers.
    """
    clusters = sorted({int(x) for x in labels if x != NOISE})
    if not previous:
        return Numbers({c: i + 1 for i, c in enumerate(clusters)}), None
    new = {p: int(x) for p, x in zip(paths, labels) if x != NOISE}
    old = {p: c for p, c in previous.items() if c != NOISE}
    centroids = {}
    if previous_model is not None and previous_model.mean.shape == model.mean.shape:
        old_in_new = model.transform(previous_model.raw_centroids())
        centroids = {"old_centroids": dict(zip(previous_model.numbers.tolist(), old_in_new)),
                     "new_centroids": dict(enumerate(model.centroids))}
    mapping = identities.match_clusters(old, new, **centroids)
    # A number kept only because it fits (its own old cluster went elsewhere) keeps no name.
    pairs = identities.pair_clusters(old, new, **centroids)
    continued = {mapping[c] for c in clusters if pairs.get(c) == mapping[c]}
    numbered = {p: mapping[c] for p, c in new.items()}
    ari = identities.assignment_ari(old, numbered)
    return Numbers({c: mapping[c] for c in clusters}, continued), \
        None if np.isnan(ari) else float(ari)


def playlist_names(labels: np.ndarray, numbers: Mapping[int, int], *, template: str,
                   previous_names: Mapping[int, str] | None = None,
                   tags: np.ndarray | None = None, tag_names: tuple[str, ...] = (),
                   descriptors: Mapping[str, np.ndarray] | None = None,
                   fields: Mapping[str, list] | None = None) -> dict[int, str]:
    """cluster number -> a unique, file-safe playlist name.

    A name is chosen when its cluster is born and kept for as long as the cluster continues
    (`Numbers.continued`): the file name is the playlist's identity in every player, and a
    rename would lose a user's edits, pins and play counts there, even where this run's words
    would describe the cluster a little differently. Only new clusters take new names, never
    one a continuing cluster holds. No `previous_names` (a first run, `--rename`, a changed
    template): every cluster takes this run's words. Raises ValueError for a template with an
    unknown field (a config error).
    """
    described = naming.name_clusters(labels, tags=tags, tag_names=tag_names,
                                     descriptors=descriptors, fields=fields)
    sizes = {numbers[c]: int((labels == c).sum()) for c in numbers}
    words = {numbers[c]: described[c] for c in numbers}
    fresh = naming.apply_template(words, template, sizes)
    continued = numbers.continued if isinstance(numbers, Numbers) else set(fresh)
    kept = {n: name for n, name in (previous_names or {}).items()
            if n in fresh and n in continued}
    born = {n: name for n, name in fresh.items() if n not in kept}
    return naming.safe_filenames({**kept, **born}, keep=kept)
