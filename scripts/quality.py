"""Cluster quality on labelled folders: every backend and option set, on every dev set.

For each folder (default: emotify-dev and games-dev) and backend, the clips go through the
product's own analysis (Library.analyse into a store kept in bench-out/quality/, so a rerun only
reads) and its own clustering (clustering.fit: standardise, PCA, the method; no warm start from
an earlier run), at k = the number of labels, once per seed of SEEDS. Printed per folder: NMI
(mean ± std over the seeds), ARI and purity (means), and P@10, the share of each clip's 10
nearest neighbours with its label in the cosine space `beet similar` ranks by
(neighbours.cosine_space; it has no seed).

    python scripts/quality.py [--folder DIR ...] [--backend handcrafted --backend musicnn
                              --backend musicnn:MSD_vgg] [--variant NAME ...]

A backend is a name or name:model. Given musicnn and musicnn:MSD_vgg, a row puts the two
models' vectors side by side too.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from emotify import EMOTIFY, GAMES, REPO, labelled_clips
from neighbours import precision_at
from quality_variants import Analysed, Space, side_by_side, variants

from beetsplug.cluster.clustering import fit, quality
from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track

SEEDS = tuple(range(10))  # fixed: every variant meets the same KMeans starts
MEASURES = ("nmi", "ari", "purity")


def analysed(folder: Path, spec: str, labels: dict[str, str], stores: Path) -> Analysed:
    """One backend's vectors and windows of a folder's clips, through Library.analyse.

    chunk_level keeps each clip's window vectors in the store too, which the pooling variants
    read; the track vector stored beside them is the one the default path clusters."""
    backend, _, model = spec.partition(":")
    store_path = stores / f"{folder.name}-{spec.replace(':', '-')}.db"
    s = Settings(backend=backend, model=model or None, aggregate="chunk_level", workers=2,
                 store_path=store_path, playlist_dir=store_path.parent / "playlists",
                 write_tags=False)
    core = Library(s)
    try:
        report = core.analyse([Track(p) for p in labels])
        emb = core.embedder
        kept, X = core.store.vectors(list(labels), emb.name, emb.version)
        _, windows = core.store.matrix(kept, emb.name, emb.version, windows=True)
    finally:
        core.close()
    print(f"{folder.name} {spec}: {len(kept)} clips ({report.analysed} analysed now)")
    return Analysed(kept, np.asarray(X, np.float64), windows,
                    np.array([labels[p] for p in kept]), emb.pooling)


@dataclass(frozen=True)
class Scores:
    means: dict[str, float]
    nmi_std: float
    p10: float


def score(space: Space, y: np.ndarray, seeds=SEEDS) -> Scores:
    """The clustering measures over the seeds, and P@10 in the space's neighbour rows."""
    k = len(set(y))
    reduced = space.reduced()
    runs = [quality.external_measures(list(y), fit.fit(
        space.X, k, method=space.method, seed=seed, reduced=reduced).labels) for seed in seeds]
    means = {m: float(np.mean([r[m] for r in runs])) for m in MEASURES}
    return Scores(means, float(np.std([r["nmi"] for r in runs])),
                  precision_at(space.neighbour_rows(), y))


def table(rows: dict[str, dict[str, Scores]], folders: list[str]) -> str:
    """Markdown: one row per backend · variant, NMI ± std, ARI, purity and P@10 per folder."""
    head = ["backend · variant"]
    for f in folders:
        head += [f"{f} NMI", f"{f} ARI", f"{f} purity", f"{f} P@10"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, by_folder in rows.items():
        cells = [name]
        for f in folders:
            s = by_folder.get(f)
            cells += (["-"] * 4 if s is None else
                      [f"{s.means['nmi']:.3f} ± {s.nmi_std:.3f}", f"{s.means['ari']:.3f}",
                       f"{s.means['purity']:.3f}", f"{s.p10:.3f}"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, action="append", default=None)
    ap.add_argument("--backend", action="append", default=None)
    ap.add_argument("--variant", action="append", default=None,
                    help="only this row (its name after the backend), repeatable")
    ap.add_argument("--stores", type=Path, default=REPO / "bench-out" / "quality",
                    help="folder of the kept stores, one per folder and backend")
    args = ap.parse_args()
    folders = [f.resolve() for f in args.folder or [EMOTIFY, GAMES]]  # stored paths: absolute
    backends = args.backend or ["handcrafted", "musicnn"]
    rows: dict[str, dict[str, Scores]] = {}
    for folder in folders:
        labels = labelled_clips(folder)
        data = {b: analysed(folder, b, labels, args.stores) for b in backends}
        for spec, a in data.items():
            for variant in variants(a.pooling):
                if not args.variant or variant.name in args.variant:
                    rows.setdefault(f"{spec} · {variant.name}", {})[folder.name] = (
                        score(variant.build(a), a.y))
        if {"musicnn", "musicnn:MSD_vgg"} <= set(data):
            pair = [data["musicnn"], data["musicnn:MSD_vgg"]]
            rows.setdefault("MSD_musicnn and MSD_vgg side by side · unit rows", {})[
                folder.name] = score(side_by_side(pair), pair[0].y)
    print(f"\nk = number of labels; NMI mean ± std, ARI and purity means over seeds "
          f"{SEEDS[0]}-{SEEDS[-1]}; P@10 in the `beet similar` space\n")
    print(table(rows, [f.name for f in folders]))


if __name__ == "__main__":
    main()
