"""`-n auto` on a labelled folder: per k, the silhouette, playlist sizes and hours, and NMI
against the labels; then the k each rule chooses. The folder's own vectors (hand-crafted,
kept in a store beside the others in bench-out/), reduced as `beet cluster` reduces them.

    python scripts/choose_k_table.py /work/shared/data/games-dev [build/full-library ...]
"""

from __future__ import annotations

import argparse
import csv
import os
import warnings
from pathlib import Path

import librosa
import numpy as np
from emotify import REPO
from sklearn.metrics import normalized_mutual_info_score

from beetsplug.cluster.clustering import choose_k
from beetsplug.cluster.clustering.fit import reduce
from beetsplug.cluster.clustering.kmeans import kmeans
from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track
from beetsplug.cluster.store import Store


def labelled(folder: Path) -> dict[str, str]:
    """Absolute path -> label; a full library keeps its files under music/."""
    base = folder / "music" if (folder / "music").is_dir() else folder
    with open(folder / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {str(base / r["file"]): r.get("label") or r["genre"] for r in sorted(
        rows, key=lambda r: r["file"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", type=Path, nargs="+")
    args = ap.parse_args()
    for folder in args.folders:
        labels = labelled(folder)
        store_path = REPO / "bench-out" / f"choose-k-{folder.name}.db"
        store_path.parent.mkdir(exist_ok=True)
        s = Settings(workers=os.cpu_count() or 1, store=store_path,
                     playlist_dir=store_path.parent / "playlists", write_tags=False)
        store = Store(store_path)
        core = Library(s, store)
        core.analyse([Track(p) for p in labels])
        emb = core.embedder
        paths, X = store.vector_matrix(sorted(labels), emb.name, emb.version)
        with warnings.catch_warnings():  # librosa's audioread fallback (Opus, M4A) warns
            warnings.simplefilter("ignore")
            durations = np.array([librosa.get_duration(path=p) for p in paths])
        truth = [labels[p] for p in paths]
        P = reduce(X, seed=0, pca_variance=s.pca_variance).P
        scan = choose_k.scan_k(P, range(2, 13), tracks=len(paths), hours=durations.sum() / 3600)
        print(f"\n{folder.name}: {len(paths)} tracks, {durations.sum() / 3600:.2f} h, "
              f"{len(set(truth))} labels; eligible k {scan.eligible[0]}..{scan.eligible[1]}")
        print(f"{'k':>3} {'silh':>6} {'smallest':>8} {'largest':>7} {'min h':>6} {'max h':>6} "
              f"{'NMI':>6}")
        for k, sil in zip(scan.ks, scan.silhouette):
            fit = kmeans(P, k, seed=0)
            sizes = np.bincount(fit.labels, minlength=k)
            hours = np.bincount(fit.labels, weights=durations, minlength=k) / 3600
            nmi = normalized_mutual_info_score(truth, fit.labels)
            marks = " <- chosen" if k == scan.best else ""
            marks += " (best silhouette)" if k == scan.best_silhouette else ""
            print(f"{k:3d} {sil:6.3f} {sizes.min():8d} {sizes.max():7d} {hours.min():6.2f} "
                  f"{hours.max():6.2f} "
                  f"{nmi:6.3f}{marks}")
        core.close()


if __name__ == "__main__":
    main()
