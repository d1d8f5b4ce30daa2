"""A run as it would be: the store's vectors -> fit -> stable numbers -> names. Saves nothing;
the core records the run once its playlists are written."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from ..config import Settings
from ..embedders import Embedder
from ..errors import ClusterError
from ..records import Assignment, ClusterRun, RecordedRun, Track
from ..store import Store
from . import NOISE, choose_k, runs
from .fit import Model, fit, reduce, vote


def plan(tracks: list[Track], store: Store, emb: Embedder, s: Settings, *,
         rename: bool = False) -> ClusterRun:
    """Cluster every track with a vector, then number and name the clusters. A cluster that
    continues one of the previous run keeps its name, unless `rename`."""
    info = {t.path: t for t in tracks}
    paths = sorted(info)  # sorted: the same library gives the same run
    windowed = s.aggregate == "chunk_level"
    if windowed:
        kept, mats = store.arrays(paths, emb.name, emb.version, windows=True)
        X = np.concatenate(mats) if mats else np.empty((0, 0), np.float32)
        per_track = np.stack([m.mean(axis=0) for m in mats]) if mats else X
    else:  # one (n, dim) matrix read in one pass: 100k tracks in a fraction of a second
        kept, X = store.vector_matrix(paths, emb.name, emb.version)
        per_track = X
    if not kept:
        raise ClusterError("no analysed tracks to cluster")
    reduced = reduce(X, seed=s.seed, pca_variance=s.pca_variance)
    scan, k = None, s.clusters
    if k is None:
        low, high = s.auto_range
        if len(X) <= low:
            raise ClusterError(f"-n auto needs more than {low} analysed tracks, not {len(X)}")
        scan = choose_k.scan_k(reduced.P, range(low, min(high, len(X) - 1) + 1), seed=s.seed,
                               minibatch_threshold=s.minibatch_threshold, tracks=len(kept),
                               hours=_hours([info[p] for p in kept], store, emb))
        k = scan.best
    previous = store.last_run(emb.name)
    previous_model = (previous.model if previous and previous.version == emb.version
                      and previous.aggregate == s.aggregate else None)
    result = fit(X, k, method=s.method, seed=s.seed, reduced=reduced,
                 minibatch_threshold=s.minibatch_threshold, previous=previous_model)
    labels, dist = result.labels, result.distances
    if windowed:
        owners = np.concatenate([np.full(len(m), i) for i, m in enumerate(mats)])
        labels, dist = vote(labels, dist, owners, len(kept))

    before = store.assignments(previous.id) if previous else {}
    numbers, ari = runs.stable_numbers(
        kept, labels, {p: a.cluster for p, a in before.items()}, result.model, previous_model)
    kept_names = (previous.names if previous and not rename
                  and previous.params.get("template") == s.playlist_template else None)
    found = store.tags(kept, emb.name, emb.version)
    names = runs.playlist_names(
        labels, numbers, template=s.playlist_template, previous_names=kept_names,
        tags=np.stack([found[p] for p in kept]) if found and len(found) == len(kept) else None,
        tag_names=store.tag_names(emb.name, emb.version),
        descriptors=_descriptors(emb, per_track), fields=_fields([info[p] for p in kept]))
    assignments = {p: Assignment(numbers[int(c)], float(d), names[numbers[int(c)]])
                   for p, c, d in zip(kept, labels, dist) if c != NOISE}
    params = {"pca_variance": s.pca_variance, "seed": s.seed, "template": s.playlist_template,
              "scan": dataclasses.asdict(scan) if scan else None, "previous_ari": ari,
              "names": names}  # the run's playlists, even once a cluster has no tracks
    record = {"backend": emb.name, "version": emb.version, "k": k, "method": s.method,
              "aggregate": s.aggregate, "params": json.dumps(params),
              "model": _renumbered(result.model, numbers).to_bytes()}
    lists: dict[str, list[str]] = {names[n]: [] for n in sorted(names)}
    for p in sorted(assignments, key=lambda p: (*assignments[p][:2], p)):
        lists[assignments[p].playlist].append(p)
    noise = sorted(set(kept) - set(assignments))
    return ClusterRun(None, len(names), assignments, lists, sorted(set(paths) - set(kept)),
                      noise, scan, ari, record,
                      changed=_moved(assignments, before, numbers.continued))


def nearest(run: RecordedRun, store: Store, emb: Embedder,
            paths: list[str]) -> dict[str, Assignment]:
    """Each analysed path's nearest cluster of a recorded run."""
    names, model, windowed = run.names, run.model, run.windowed
    kept, mats = store.arrays(paths, emb.name, emb.version, windows=windowed)
    out = {}
    for path, m in zip(kept, mats):
        labels, dist = model.assign(m if windowed else m[None, :])
        if windowed:  # the track's windows vote, as in the run
            labels, dist = vote(labels, dist, np.zeros(len(m), dtype=int), 1)
        out[path] = Assignment(int(labels[0]), float(dist[0]), names[int(labels[0])])
    return out


def _moved(now: dict[str, Assignment], before: dict[str, Assignment],
           continued: frozenset[int]) -> int:
    """Tracks in another playlist than in the previous run, or in none before. A playlist is
    the same while its cluster continues, whatever its name (`--rename` moves no track); a
    number a new cluster took over is another playlist."""
    return sum(p not in before or before[p].cluster != a.cluster or a.cluster not in continued
               for p, a in now.items())


def _hours(tracks: list[Track], store: Store, emb: Embedder) -> float | None:
    """The tracks' total length in hours: beets' lengths, else the store's decoded durations;
    a track of unknown length counts as the average of the known ones."""
    known = [t.duration for t in tracks if t.duration] or store.durations(emb.name)
    return float(np.mean(known)) * len(tracks) / 3600 if known else None


def _fields(tracks: list[Track]) -> dict[str, list] | None:
    """beets fields per track, aligned with `tracks`, for names when nothing else describes."""
    keys = sorted({k for t in tracks for k in (t.fields or {})})
    return {k: [(t.fields or {}).get(k) for t in tracks] for k in keys} or None


def _descriptors(emb: Embedder, tracks: np.ndarray) -> dict[str, np.ndarray] | None:
    """Per-track values of the backend's describable columns (tempo, brightness, energy)."""
    columns = emb.descriptor_columns
    if not columns:
        return None
    return {name: tracks[:, col] for name, col in columns.items()}


def _renumbered(model: Model, numbers: dict[int, int]) -> Model:
    """The model with the run's stable cluster numbers in place of the fit's labels."""
    return dataclasses.replace(model, numbers=np.array([numbers[label] for label in
                                                         range(len(model.centroids))]))
