"""A synthetic library of N tracks for the big-library benchmarks, built in seconds: a beets
database of N items written with SQL (paths as beets 2.12+ keeps them: relative to its
directory), one real clip as the seed, and a store that holds a hand-crafted-sized vector per
track, drawn from a mixture of 12 blobs so that there are clusters to find (float32, seeded).

With `files`, every track is also a tiny file on disk whose size and mtime the store row
matches, so a run finds each one analysed and decodes nothing.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from beets import library

from beetsplug.cluster.embedders.handcrafted import HandcraftedEmbedder
from beetsplug.cluster.records import Analysis
from beetsplug.cluster.store import Store

CLIP = REPO.parent / "shared" / "data" / "emotify-dev" / "rock" / "rock_001.mp3"
BLOBS = 12


def build(root: Path, n: int, *, files: bool = False, config: dict | None = None) -> int:
    """The beets library, the store and config.yaml under `root`; returns the seed's id."""
    music = root / "music"
    music.mkdir(parents=True)
    seed = music / "seed.mp3"
    shutil.copyfile(CLIP, seed)
    with contextlib.redirect_stdout(io.StringIO()):  # a new database: beets' migration notes
        lib = library.Library(str(root / "library.db"), str(music))
    with lib.music_dir_context():
        seed_id = lib.add(library.Item.from_path(os.fsencode(seed)))
        to_sql = library.Item._type("path").to_sql
        paths = [music / f"a{i // 1000:03d}" / f"t{i:06d}.mp3" for i in range(n - 1)]
        db_paths = [to_sql(os.fsencode(p)) for p in paths]
    lib._close()
    db = sqlite3.connect(root / "library.db")
    db.executemany("INSERT INTO items (path, artist, title, album, albumartist, length) "
                   "VALUES (?, ?, ?, ?, ?, 200.0)",
                   ((p, f"artist {i % 5000}", f"title {i}", f"album {i // 12}",
                     f"artist {i % 5000}") for i, p in enumerate(db_paths)))
    db.commit()
    db.close()
    stats = _make_files(paths) if files else None
    _fill_store(root / "cluster.db", seed, paths, stats)
    settings = {"store": str(root / "cluster.db"), "playlist_dir": str(root / "playlists"),
                **(config or {})}
    (root / "config.yaml").write_text(yaml.safe_dump({
        "directory": str(music), "library": str(root / "library.db"),
        "plugins": ["cluster"], "cluster": settings}))
    return seed_id


def _make_files(paths: list[Path]) -> list[os.stat_result]:
    for folder in sorted({p.parent for p in paths}):
        folder.mkdir()
    out = []
    for i, p in enumerate(paths):
        p.write_bytes(b"%d" % i)
        out.append(p.stat())
    return out


def _fill_store(path: Path, seed: Path, paths: list[Path], stats) -> None:
    emb = HandcraftedEmbedder()
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((BLOBS, emb.vector_dim)) * 3
    store = Store(path)
    st = seed.stat()
    rows = [Analysis(str(seed), st.st_size, st.st_mtime, emb.name, emb.version,
                     vector=rng.standard_normal(emb.vector_dim).astype(np.float32))]
    for i, p in enumerate(paths):
        size, mtime = (stats[i].st_size, stats[i].st_mtime) if stats else (1000, 1.0)
        vector = centres[i % BLOBS] + rng.standard_normal(emb.vector_dim)
        rows.append(Analysis(str(p), size, mtime, emb.name, emb.version, duration=200.0,
                             vector=vector.astype(np.float32)))
        if len(rows) >= 5000 or i == len(paths) - 1:
            store.save(rows)
            rows = []
    store.close()
