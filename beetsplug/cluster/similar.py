"""Playlists grown from songs or words, called by the core's `Library.similar` with what it
owns (settings, store, embedder, its analyse, its playlist folder); the maths is
neighbours.py, the file output/similar_playlist.py.

    similar(seeds, tracks)  analyse new seeds -> the store's vectors of seeds + candidates, read
                            once -> cosine space -> ranking (or a path, or words) -> variety
                            rules -> one playlist file (not with pretend)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import neighbours
from .errors import ClusterError
from .output import playlists
from .output.similar_playlist import file_name, write_similar
from .records import AnalysisReport, Track

if TYPE_CHECKING:
    from .config import Settings
    from .embedders import Embedder
    from .freshness import Row
    from .output.playlist_folder import PlaylistFolder
    from .store import Store



@dataclass(frozen=True)
class Picked:
    path: str
    distance: float  # cosine distance: to the furthest seed, the words, or the step before
    label: str  # "artist - title", or the file stem
    moved: bool = False  # placed after a farther track by the variety rules (not beside its
    # own artist's track), so the distances read out of order here


@dataclass
class SimilarList:
    name: str
    tracks: list[Picked]
    failed: int = 0  # candidates whose analysis failed: left out
    unanalysed: int = 0  # candidates with no vector yet (never analysed): left out
    report: AnalysisReport | None = None  # the seeds' analysis
    file: Path | None = None  # None with pretend
    candidates: int = 0  # tracks with a vector that could be chosen


def find(seeds: list[Track], tracks: Mapping[str, Track] | Iterable[Track], *, n: int,
         settings: Settings, store: Store, emb: Embedder,
         analyse: Callable[[list[Track]], AnalysisReport], folder: PlaylistFolder,
         path: bool = False, text: str | None = None, out: Path | None = None,
         pretend: bool = False) -> SimilarList:
    """The `n` tracks closest to all `seeds` (the first seed first); with `path`, `n` tracks
    stepping from seeds[0] to seeds[-1]; with `text`, the tracks nearest the words (a
    backend with a text tower). Candidates are `tracks` (plus the seeds); as a mapping
    path -> Track, only the Tracks the rules look at are taken out of it."""
    s = settings
    if text is not None and not hasattr(emb, "embed_text"):
        raise ClusterError(f"--text needs a backend with a text tower (clap); the {emb.name}"
                           " backend has none")
    if path and (len(seeds) != 2 or seeds[0].path == seeds[1].path):
        raise ClusterError("a path needs two different songs")
    report = analyse(seeds) if seeds else None
    others = tracks if isinstance(tracks, Mapping) else {t.path: t for t in tracks}
    own = {t.path: t for t in seeds}

    def track(p: str) -> Track:
        return own[p] if p in own else others[p]

    pool = [*own, *(p for p in others if p not in own)]  # the library's order: stable
    kept, X = store.vector_matrix(pool, emb.name, emb.version)
    index = {p: i for i, p in enumerate(kept)}
    for t in seeds:
        if t.path not in index:
            row = store.row(emb.name, t.path)
            error = row.error if row else "not found"
            raise ClusterError(f"the song {_label(t)} has no vector: {error}")
    failed = len({p for p in store.failed(emb.name) if p in own or p in others}
                 - index.keys())
    if not kept:
        raise ClusterError("no analysed tracks to choose from; run `beet cluster` first")
    meta = _LazyMeta(kept, track, lambda p: store.row(emb.name, p))
    U = (neighbours.unit_rows(X) if text is not None else
         neighbours.cosine_space(X, pca_variance=s.pca_variance))
    rules = neighbours.Variety(meta, U, s.similar_per_artist, s.similar_per_album)
    first = [index[t.path] for t in seeds]
    if path:
        chosen = neighbours.walk(U, first[0], first[1], n, rules)
        dist = [0.0, *(neighbours.cosine_distance(U, i, j) for i, j in pairwise(chosen))]
        name = f"{_title(seeds[0])} to {_title(seeds[1])}"
    else:
        if text is not None:
            scores = U @ neighbours.unit_rows(emb.embed_text(text)[None].astype(np.float64))[0]
            name = f"Sounds like {text}"
        else:
            scores = neighbours.seed_scores(U, first)
            more = f" and {len(seeds) - 1} more" if len(seeds) > 1 else ""
            name = f"Similar to {_title(seeds[0])}{more}"
        order = np.argsort(-scores, kind="stable")
        chosen = neighbours.pick((int(i) for i in order), n, rules, start=first[:1])
        dist = [max(0.0, 1.0 - float(scores[i])) for i in chosen]
    # In a ranking only the variety rules put a nearer track after a farther one; a path's
    # distances are steps, in no order.
    farthest = np.maximum.accumulate(np.asarray([0.0, *dist]))[:-1]
    picked = [Picked(kept[i], d, _label(track(kept[i])), not path and d < far)
              for i, d, far in zip(chosen, dist, farthest)]
    result = SimilarList(name, picked, failed, len(pool) - len(kept) - failed, report,
                         candidates=len(kept))
    if not pretend:
        target = Path(out) if out else Path(file_name(name) + folder.style.suffix)
        if target.parent == Path("."):
            target = s.similar_folder / target
        entries = [playlists.Entry(Path(p.path), track(p.path).duration, p.label)
                   for p in picked]
        result.file = write_similar(target, name, entries, folder.style)
    return result


class _LazyMeta(Sequence):
    """Each candidate's Meta when the variety rules first ask: they read a few hundred of
    100k candidates, so their store rows (the fingerprints) are read one by one."""

    def __init__(self, paths: list[str], track: Callable[[str], Track],
                 row_of: Callable[[str], Row | None]):
        self.paths, self.track, self.row_of = paths, track, row_of
        self.known: dict[int, neighbours.Meta] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> neighbours.Meta:
        if i not in self.known:
            p = self.paths[i]
            self.known[i] = _meta(self.track(p), self.row_of(p))
        return self.known[i]


def _meta(t: Track, row: Row | None) -> neighbours.Meta:
    f = t.fields or {}

    def low(*keys: str) -> str | None:
        value = next((f[k] for k in keys if f.get(k)), None)
        return str(value).strip().lower() or None if value else None

    album = low("album")
    return neighbours.Meta(low("artist"), album and f"{low('albumartist', 'artist')}\0{album}",
                           low("title"), row.fingerprint if row else None)


def _title(t: Track) -> str:
    return str((t.fields or {}).get("title") or Path(t.path).stem)


def _label(t: Track) -> str:
    return t.display_name or Path(t.path).stem
