"""`beet similar` on a library of N tracks (default 100,000), against `beet ls` of the same seed on
the same library (beets' own start-up and query: the reference), each a fresh `beet` process.

The library is synthetic: a beets database of N items written with SQL (one real clip as the
seed, the other files need not exist: only seeds are read), a store holding a hand-crafted-sized
vector for each (random, float32). The seed's row matches its file, so nothing is decoded.

    python scripts/bench_similar.py [--tracks 100000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
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


def build(root: Path, n: int) -> int:
    """The beets library, the store and the config; returns the seed's beets id."""
    music = root / "music"
    music.mkdir()
    seed = music / "seed.mp3"
    shutil.copyfile(CLIP, seed)
    lib = library.Library(str(root / "library.db"), str(music))
    with lib.music_dir_context():
        item = library.Item.from_path(os.fsencode(seed))
        seed_id = lib.add(item)
    lib._close()
    paths = [str(music / f"a{i // 1000:03d}" / f"t{i:06d}.mp3") for i in range(n - 1)]
    db = sqlite3.connect(root / "library.db")
    db.executemany("INSERT INTO items (path, artist, title, album, albumartist, length) "
                   "VALUES (?, ?, ?, ?, ?, 200.0)",
                   ((os.fsencode(p), f"artist {i % 5000}", f"title {i}", f"album {i // 12}",
                     f"artist {i % 5000}") for i, p in enumerate(paths)))
    db.commit()
    db.close()
    emb = HandcraftedEmbedder()
    store = Store(root / "cluster.db")
    rng = np.random.default_rng(0)
    st = seed.stat()
    rows = [Analysis(str(seed), st.st_size, st.st_mtime, emb.name, emb.version,
                     vector=rng.standard_normal(emb.dim).astype(np.float32))]
    for i, p in enumerate(paths):
        rows.append(Analysis(p, 1000, 1.0, emb.name, emb.version,
                             vector=rng.standard_normal(emb.dim).astype(np.float32)))
        if len(rows) >= 5000 or i == len(paths) - 1:
            store.save(rows)
            rows = []
    store.close()
    config = {"directory": str(music), "library": str(root / "library.db"),
              "plugins": ["cluster"], "cluster": {"store": str(root / "cluster.db")}}
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    return seed_id


def beet(root: Path, *args: str) -> float:
    env = {**os.environ, "BEETSDIR": str(root), "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "beets", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    n = ap.parse_args().tracks
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        seed_id = build(root, n)
        print(f"built a library of {n} tracks in {time.perf_counter() - t:.0f} s", flush=True)
        beet(root, "ls", f"id:{seed_id}")  # warm the page cache for both
        ls = beet(root, "ls", f"id:{seed_id}")
        similar = beet(root, "similar", "-n", "25", "--pretend", f"id:{seed_id}")
    print(f"{n} tracks: beet similar -n 25 {similar:.2f} s, beet ls of the seed {ls:.2f} s: "
          f"{similar - ls:.2f} s beyond beets' start-up and query")


if __name__ == "__main__":
    main()
