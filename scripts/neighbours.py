"""Neighbour quality and speed of `beet similar`.

P@10 on emotify-dev: for each clip, the share of its 10 nearest (cosine, itself left out) that
share its genre, averaged; in the space `beet similar` uses (standardise + PCA 95 %, unit rows)
and, for comparison, on the raw vectors. Vectors come through the product's path
(Library.analyse into a store, kept in bench-out/ so a second run only reads). Then the time of
one query on a synthetic 100k x 85 float32 matrix (numpy only, no beets start-up).

    python scripts/neighbours.py [--backend handcrafted --backend musicnn] [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from emotify import REPO, labelled_clips

from beetsplug.cluster import neighbours
from beetsplug.cluster.config import Settings
from beetsplug.cluster.errors import ClusterError
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track


def precision_at(U: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    sims = U @ U.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    return float((labels[top] == labels[:, None]).mean())


def quality(backend: str) -> None:
    store_path = REPO / "bench-out" / f"emotify-{backend}.db"
    labels = labelled_clips()
    tracks = [Track(p) for p in labels]
    s = Settings(backend=backend, workers=os.cpu_count() or 1, store=store_path,
                 playlist_dir=store_path.parent / "playlists", write_tags=False)
    try:
        core = Library(s)
        core.analyse(tracks)
    except ClusterError as exc:
        print(f"{backend}: not available here ({exc})")
        return
    kept, mats = core.store.arrays(list(labels), backend, core.embedder.version)
    core.close()
    X, y = np.stack(mats), np.array([labels[p] for p in kept])
    scaled = precision_at(neighbours.cosine_space(X), y)
    raw = precision_at(neighbours.unit_rows(X.astype(np.float64)), y)
    chance = float(np.mean([(y == g).sum() - 1 for g in y]) / (len(y) - 1))
    print(f"{backend}: {len(kept)} clips, P@10 {scaled:.3f} (scaled space, as beet similar), "
          f"{raw:.3f} (raw cosine); chance {chance:.3f}")


def best_of(runs: int, f) -> tuple[float, object]:
    """The fastest of `runs` (the machine is shared: the minimum is the code's own cost)."""
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - start)
    return min(times), out


def speed(rows: int, dim: int = 85, n: int = 25, runs: int = 5) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, dim), dtype=np.float32)
    meta = [neighbours.Meta(f"artist {i % 5000}", f"album {i % 20000}", f"t{i}")
            for i in range(rows)]
    space_s, U = best_of(runs, lambda: neighbours.cosine_space(X))

    def query(seeds: list[int]) -> list[int]:
        order = np.argsort(-neighbours.seed_scores(U, seeds), kind="stable")
        rules = neighbours.Variety(meta, U, 3, 3)
        return neighbours.pick((int(i) for i in order), n, rules, start=seeds[:1])

    one_s, chosen = best_of(runs, lambda: query([0]))
    five_s, _ = best_of(runs, lambda: query([0, 1, 2, 3, 4]))
    walk_s, steps = best_of(runs, lambda: neighbours.walk(U, 0, 1, 20,
                                                          neighbours.Variety(meta, U, 3, 3)))
    assert len(chosen) == n and len(steps) == 20
    print(f"{rows} x {dim} float32, best of {runs}: the scaled space (standardise + PCA + unit "
          f"rows, once per run) {space_s * 1000:.0f} ms; a query of {n} with the variety rules "
          f"{one_s * 1000:.0f} ms (1 seed), {five_s * 1000:.0f} ms (5 seeds); a 20-step path "
          f"{walk_s * 1000:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", action="append", default=None)
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    for backend in args.backend or ["handcrafted", "musicnn"]:
        quality(backend)
    if args.rows:
        speed(args.rows)


if __name__ == "__main__":
    main()
