"""Judge the product's clustering on a labelled folder (default: all 200 emotify-dev clips).

Goes through the real path: Library.analyse into a store, Library.recluster (scale, PCA, the
chosen method), then the evaluation measures against the genre labels, for each -k given
(`auto` too), and optionally the map of the last one. The store is kept (default
bench-out/emotify-<backend>.db), so a second run only clusters.

    python scripts/evaluate_folder.py -k 4 -k auto [--backend musicnn] [--plot map.png]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from emotify import EMOTIFY, REPO, labelled_clips

from beetsplug.cluster.clustering import quality
from beetsplug.cluster.config import METHODS, Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track
from beetsplug.cluster.store import Store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", action="append", default=None, help="k or 'auto' (repeatable)")
    ap.add_argument("--backend", default="handcrafted")
    ap.add_argument("--model", default=None)
    ap.add_argument("--method", default="kmeans", choices=METHODS)
    ap.add_argument("--aggregate", default="chunk_average")
    ap.add_argument("--folder", type=Path, default=EMOTIFY)
    ap.add_argument("--store", type=Path, default=None)
    ap.add_argument("--plot", type=Path, default=None, help="map of the last run (PNG)")
    args = ap.parse_args()
    store_path = args.store or REPO / "bench-out" / f"emotify-{args.backend}.db"
    labels = labelled_clips(args.folder)
    tracks = [Track(p, duration=None) for p in labels]
    store = Store(store_path)
    base = Settings(backend=args.backend, model=args.model, method=args.method,
                    aggregate=args.aggregate, workers=os.cpu_count() or 1, store=store_path,
                    playlist_dir=store_path.parent / "playlists", write_tags=False)
    report = Library(base, store).analyse(tracks)
    print(f"{len(tracks)} clips: {report.analysed} analysed now, {report.cached} from the store, "
          f"{len(report.failed) + len(report.known_failures)} failed")
    table = {}
    for k in args.k or ["4"]:
        core = Library(base.with_(clusters=None if k == "auto" else int(k)), store)
        run = core.recluster(tracks)
        if run.scan:
            print(run.scan.render())
        row = store.last_run(core.embedder.name)
        column = f"k={k}" + (f" ({run.k})" if k == "auto" else "")
        table[column] = core.evaluate(row, labels)
    print(f"backend {args.backend}, method {args.method}, {args.aggregate}:")
    print(quality.format_table(table))
    if args.plot:
        for f in core.draw(store.last_run(core.embedder.name), args.plot):
            print(f"wrote {f}")


if __name__ == "__main__":
    main()
