"""The three dev sets scripts/quality.py judges on, and their analysis through the product.

A set is a folder with a labels.csv: emotify-dev (label column `genre`), games-dev (`label`,
the game) and any full-length library that ../shared/tools/make_full_library.sh builds
(`label`, the game; files relative to its music/ folder, with `duration_s`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from emotify import EMOTIFY, GAMES, REPO
from quality_variants import Analysed

from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track

# the full-length library the figures are measured on: ../shared/tools/make_full_library.sh
# build/full-library (about 170 tracks of 10 games; apt downloads, cached)
FULL = REPO / "build" / "full-library"
SETS = (EMOTIFY, GAMES, FULL)
# "Every window": more than any track gives; the decoder stops at its ceiling (25 min of 5 s
# windows for hand-crafted), which no track of the dev sets reaches.
ALL_WINDOWS = 100_000


@dataclass(frozen=True)
class LabelledSet:
    name: str
    labels: dict[str, str]  # absolute path -> label, sorted by path
    durations: dict[str, float | None]  # what beets would know without decoding


def labelled_set(folder: Path) -> LabelledSet:
    """A dev set's clips, labels and lengths. Files are relative to the folder, or to its music/
    folder (make_full_library.sh's layout); the label is `genre` or `label`."""
    folder = folder.resolve()  # stored paths: absolute
    root = folder / "music" if (folder / "music").is_dir() else folder
    with open(folder / "labels.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    labels, durations = {}, {}
    for r in rows:
        path = str(root / r["file"])
        labels[path] = r["genre"] if "genre" in r else r["label"]
        durations[path] = float(r["duration_s"]) if r.get("duration_s") else _length(path)
    return LabelledSet(folder.name, labels, durations)


def _length(path: str) -> float | None:
    try:
        return sf.info(path).duration
    except (sf.LibsndfileError, RuntimeError):
        return None


def analysed(s: LabelledSet, spec: str, stores: Path, *, every_window: bool) -> Analysed:
    """One backend's vectors and window vectors of a set, through Library.analyse into a store
    kept in `stores` (a rerun only reads). `every_window`: every window of each track is kept
    (the windows-per-track curve and the default cap are then cut from them, as the decoder
    cuts: evenly spread); else the product's own cap (the library's quantile length)."""
    backend, _, model = spec.partition(":")
    suffix = "-all" if every_window else ""
    store_path = stores / f"{s.name}-{spec.replace(':', '-')}{suffix}.db"
    settings = Settings(backend=backend, model=model or None, aggregate="chunk_level",
                        workers=2, store=store_path,
                        playlist_dir=store_path.parent / "playlists", write_tags=False,
                        max_windows=ALL_WINDOWS if every_window else None)
    core = Library(settings)
    try:
        report = core.analyse([Track(p, duration=s.durations[p]) for p in s.labels])
        emb = core.embedder
        kept, X = core.store.vector_matrix(list(s.labels), emb.name, emb.version)
        _, windows = core.store.arrays(kept, emb.name, emb.version, windows=True)
    finally:
        core.close()
    print(f"{s.name} {spec}{' (every window)' if every_window else ''}: {len(kept)} tracks "
          f"({report.analysed} analysed now)", flush=True)
    return Analysed(kept, np.asarray(X, np.float64), windows,
                    np.array([s.labels[p] for p in kept]), emb.pooling,
                    [s.durations[p] for p in kept], emb.window_seconds)
