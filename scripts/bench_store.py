"""How fast the store hands back a big library's vectors: `Store.arrays` over N rows, against
the same query on the (backend, version) index it used to take (the reference), in one run.

    python scripts/bench_store.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from beetsplug.cluster.records import Analysis
from beetsplug.cluster.store import Store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    n = ap.parse_args().rows
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s.db")
        paths = [f"/music/{i // 1000:03d}/{i:06d}.mp3" for i in range(n)]
        for start in range(0, n, 5000):
            store.save(Analysis(p, 1, 1.0, "handcrafted", "1",
                                vector=rng.standard_normal(85).astype(np.float32))
                       for p in paths[start:start + 5000])
        t = time.perf_counter()
        kept, _ = store.arrays(paths, "handcrafted", "1")
        ours = time.perf_counter() - t
        assert len(kept) == n
        t = time.perf_counter()
        for i in range(0, n, 500):  # the old query: the planner takes the (backend, version) index
            chunk = [os.fsencode(p) for p in paths[i:i + 500]]
            marks = ",".join("?" * len(chunk))
            store.db.conn.execute(
                "SELECT path, vector, dim FROM tracks WHERE backend = ? AND version = ? AND "
                f"error IS NULL AND vector IS NOT NULL AND path IN ({marks})",
                ["handcrafted", "1", *chunk]).fetchall()
        reference = time.perf_counter() - t
        store.close()
    print(f"{n} rows: Store.arrays {ours:.2f} s, the indexed query {reference:.2f} s "
          f"({reference / ours:.1f}x)")


if __name__ == "__main__":
    main()
