"""Small updates between full runs: place new tracks by the last run's centroids, without
re-clustering. Shared by the import stage and the daemon."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .clustering import fit as clustering
from .log import log
from .output import playlists
from .pipeline import Pipeline, Track


def place_new(pipe: Pipeline, tracks: list[Track]) -> dict[str, tuple[int, float, str]]:
    """Analyse tracks and add each to the playlist of its nearest cluster of the last run.

    Returns path -> (cluster number, distance, playlist name); empty when there is no run yet
    (the first `beet cluster` makes one).
    """
    emb, store = pipe.embedder, pipe.store
    pipe.analyse(tracks)
    run = store.last_run(emb.name)
    if run is None or run["version"] != emb.version:
        log.info("no earlier run of {} to place new tracks by; run `beet cluster`",
                 emb.name)
        return {}
    model = clustering.Model.from_bytes(run["model"])
    names = {int(c): n for c, n in json.loads(run["params"])["names"].items()}
    paths = [t.path for t in tracks]
    if run["aggregate"] == "chunk_level":
        kept, mats = store.matrix(paths, emb.name, emb.version, windows=True)
        placed = []
        for m in mats:
            wl, wd = model.assign(m)
            label, dist = clustering.vote(wl, wd, np.zeros(len(m), dtype=int), 1)  # numbers
            placed.append((int(label[0]), float(dist[0])))
    else:
        kept, vecs = store.matrix(paths, emb.name, emb.version)
        placed = list(zip(*model.assign(np.stack(vecs)))) if vecs else []
    info = {t.path: t for t in tracks}
    out = {}
    for path, (label, dist) in zip(kept, placed):
        number = int(label)
        name = names[number]
        store.assign(run["id"], path, number, float(dist), name)
        t = info[path]
        playlists.add_entry(playlist_file(pipe, name),
                            playlists.Entry(Path(path), t.duration, t.title or Path(path).stem),
                            style=pipe.path_style)
        out[path] = (number, float(dist), name)
    return out


def playlist_file(pipe: Pipeline, name: str) -> Path:
    return pipe.settings.playlist_dir / f"{name}{pipe.path_style.suffix}"

