"""Evaluate clusterings of a labelled folder from precomputed vectors; print the measures.

    python scripts/evaluate_folder.py --vectors vectors.npz -k 4 -k auto [--plot map.png]

vectors.npz holds "paths" (one per row; absolute, or relative to the folder) and "vectors"
(n x dim); optional per-track "tempo", "brightness", "energy" arrays, or "tags" (n x t) with
"tag_names", are used to name the clusters on the map. Labels come from the folder's
labels.csv (columns "file" and, by default, "genre"). Vectors are standardised, clustered with
--method for each -k ("auto" scans 2..12 and prints the curve), and judged against the labels.
Runs without beets and without the analysis pipeline.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from beetsplug.cluster.choose_k import scan_k
from beetsplug.cluster.evaluation import (
    external_measures,
    format_table,
    internal_measures,
)
from beetsplug.cluster.methods import METHODS, fit_labels

DEFAULT_FOLDER = ROOT.parent / "shared" / "data" / "emotify-dev"


def read_labels(path: Path, column: str) -> dict[str, str]:
    with open(path, newline="") as f:
        return {row["file"]: row[column] for row in csv.DictReader(f)}


def relative(path: str, folder: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.resolve().relative_to(folder.resolve())
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    ap.add_argument("--labels", type=Path, help="CSV with a 'file' column (default: labels.csv)")
    ap.add_argument("--column", default="genre", help="label column of the CSV")
    ap.add_argument("--vectors", type=Path, required=True, help=".npz with paths and vectors")
    ap.add_argument("-k", action="append", default=None, help="k or 'auto'; repeatable")
    ap.add_argument("--method", default="kmeans", choices=METHODS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", type=Path, help="also draw the map of the last run here (PNG)")
    ap.add_argument("--projection", default="pca", choices=("pca", "tsne", "umap"))
    args = ap.parse_args(argv)

    labels = read_labels(args.labels or args.folder / "labels.csv", args.column)
    data = np.load(args.vectors, allow_pickle=False)
    paths = [relative(str(p), args.folder) for p in data["paths"]]
    X = StandardScaler().fit_transform(np.asarray(data["vectors"], dtype=np.float64))
    true = [labels.get(p) for p in paths]
    missing = len(set(labels) - set(paths))
    print(f"{len(paths)} tracks with vectors ({X.shape[1]} dims); "
          f"{missing} labelled files have no vector")  # fmt: skip

    runs: dict[str, dict[str, float | int]] = {}
    for spec in args.k or ["4"]:
        if spec == "auto":
            scan = scan_k(X, seed=args.seed)
            print(scan.render())
            k, name = scan.best, f"auto (k={scan.best})"
        else:
            k, name = int(spec), f"k={spec}"
        pred, _ = fit_labels(args.method, X, k, seed=args.seed)
        runs[name] = {**internal_measures(X, pred, seed=args.seed), **external_measures(true, pred)}
        runs[name]["n"] = len(paths)
    print(f"method: {args.method}, seed {args.seed}, labels: {args.column}")
    print(format_table(runs))
    if args.plot:
        from beetsplug.cluster.naming import name_clusters
        from beetsplug.cluster.plot import plot_map

        keys = ("tempo", "brightness", "energy")
        descriptors = {key: data[key] for key in keys if key in data}
        tags = data.get("tags")
        tag_names = [str(t) for t in data["tag_names"]] if "tag_names" in data else ()
        fields = None if (descriptors or tags is not None) else {args.column: true}
        names = name_clusters(pred, tags=tags, tag_names=tag_names,
                              descriptors=descriptors or None, fields=fields)  # fmt: skip
        for path in plot_map(X, pred, names, args.plot, method=args.projection, html=True):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
