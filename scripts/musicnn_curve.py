"""Quality of the musicnn backend against patches (3 s windows) per track.

Every track of a labelled folder is decoded whole by the product's decoder (16 kHz mono, the
back-to-back window grid, up to the decoder's ceiling) and each window embedded once; the
vectors are kept in bench-out/musicnn/. A cap of k patches keeps the windows the product keeps
under `max_windows: k` (analysis.audio_stream.spread over the same grid: for seekable files
the same windows, resampled per window there instead of whole here), mean-pooled as the
backend pools. Each cap is then scored the way scripts/quality.py scores the backend's default
space (standardise, PCA 0.95, unit rows, KMeans at k = number of labels, seeds 0-9; P@10 in
the `beet similar` space) and compared with a reference cap:
- paired test over seeds: the NMI of cap and reference under the same KMeans seed, a
  two-sided Wilcoxon signed-rank test over the 10 pairs;
- bootstrap over clips: resamples of the clips (seeded; 500 for NMI, 2,000 for P@10), the
  cluster labels of each seed fixed, the difference in seed-mean NMI and in P@10 (per clip
  hits).
A gain counts when both call it significant (Wilcoxon p < 0.05, and the 95 % interval above
0). A loss counts when either finds it at the 10 % level (Wilcoxon p < 0.10 with the mean
below 0, or the 90 % interval below 0; for P@10, which has no seeds, the interval alone): a
cautious level for a cap that throws audio away, since 10 seeds and 118-200 clips give the
tests little power. The rule for the default: the fewest patches with no loss on any set,
every larger cap passing too.

    PYTHONPATH=$PWD nice -n 10 python scripts/musicnn_curve.py --folder build/full-library \
        [--caps 4,8,12,16,24,35,all] [--reference 35]
    ... scripts/musicnn_curve.py --folder DIR --product [--max-windows N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emotify import REPO, labelled_clips
from neighbours import precision_at
from quality import SEEDS
from quality_variants import Space

from beetsplug.cluster.analysis.audio import decode_windows
from beetsplug.cluster.analysis.audio_stream import spread
from beetsplug.cluster.clustering import fit
from beetsplug.cluster.errors import ClusterError

OUT = REPO / "bench-out" / "musicnn"
BOOTSTRAPS = 2000  # clip resamples for P@10
NMI_BOOTS = 500  # of them for NMI (10 seeds x 2 NMIs each)


def window_vectors(folder: Path, model: str) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
    """(paths, labels, per-track (n_windows, 200) vectors), computed once and kept."""
    import torch

    from beetsplug.cluster.embedders.musicnn import MusicnnEmbedder

    labels = labelled(folder)
    cache = OUT / f"{folder.name}-{model}-windows.npz"
    if cache.is_file():
        with np.load(cache) as d:
            if list(d["paths"]) == list(labels):
                cuts = np.cumsum(d["counts"])[:-1]
                return list(labels), np.array(list(labels.values())), np.split(d["vectors"],
                                                                                cuts)
    emb = MusicnnEmbedder(model, device="cpu")
    torch.set_num_threads(2)
    kept, per_track, t0 = [], [], time.perf_counter()
    for i, path in enumerate(labels):
        try:
            dec = decode_windows(Path(path), emb.sample_rate, emb.window_seconds, 0.5, None)
        except ClusterError as exc:
            print(f"skipped {path}: {exc}")
            continue
        per_track.append(emb.forward(dec.windows)[0])
        kept.append(path)
        if i % 20 == 0:
            print(f"{folder.name}: {i + 1}/{len(labels)} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(cache, paths=np.array(kept), counts=np.array([len(v) for v in per_track]),
             vectors=np.concatenate(per_track))
    return kept, np.array([labels[p] for p in kept]), per_track


def labelled(folder: Path) -> dict[str, str]:
    """Path -> label; a full-length library (make_full_library.sh) keeps its files in music/."""
    labels = labelled_clips(folder)
    if (folder / "music").is_dir():
        return {str(folder / "music" / Path(p).relative_to(folder)): y
                for p, y in labels.items()}
    return labels


def capped(per_track: list[np.ndarray], cap: int | None) -> np.ndarray:
    """Each track's vector when at most `cap` windows are kept (None: every window)."""
    rows = []
    for v in per_track:
        if cap is not None and len(v) > cap:
            v = v[spread(len(v), cap)]
        rows.append(v.mean(axis=0))
    return np.stack(rows).astype(np.float64)


def per_seed_labels(X: np.ndarray, k: int) -> list[np.ndarray]:
    """The product's clustering of X (as quality.py's default row), one labelling per seed."""
    space = Space(X)
    reduced = space.reduced()
    return [fit.fit(X, k, seed=s, reduced=reduced).labels for s in SEEDS]


def p10_hits(X: np.ndarray, y: np.ndarray, k: int = 10) -> np.ndarray:
    """Per clip: the share of its 10 nearest neighbours with its label (mean = P@10)."""
    U = Space(X).neighbour_rows()
    sims = U @ U.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    hits = (y[top] == y[:, None]).mean(axis=1)
    assert abs(hits.mean() - precision_at(U, y)) < 1e-12
    return hits


def product(folder: Path, max_windows: int | None) -> None:
    """The folder through the product itself (Library.analyse with musicnn's defaults, or a
    set `max_windows`; the library's durations as hints), scored by quality.py's `score`:
    checks that the curve's simulated cap is what the product stores."""
    import csv

    from quality import score

    from beetsplug.cluster.config import Settings
    from beetsplug.cluster.library import Library
    from beetsplug.cluster.records import Track

    labels = labelled(folder)
    with open(folder / "labels.csv", newline="") as f:
        seconds = {r["file"]: float(r["duration_s"]) for r in csv.DictReader(f)
                   if r.get("duration_s")}
    root = folder / "music" if (folder / "music").is_dir() else folder
    tracks = [Track(p, duration=seconds.get(str(Path(p).relative_to(root)))) for p in labels]
    store = OUT / f"{folder.name}-product-{max_windows or 'default'}.db"
    core = Library(Settings(backend="musicnn", workers=2, store=store, write_tags=False,
                            playlist_dir=OUT / "playlists", max_windows=max_windows))
    try:
        core.analyse(tracks)
        emb = core.embedder
        kept, X = core.store.vector_matrix(list(labels), emb.name, emb.version)
    finally:
        core.close()
    s = score(Space(np.asarray(X, np.float64)), np.array([labels[p] for p in kept]))
    print(f"{folder.name} through the product ({emb.version}, max_windows "
          f"{max_windows or 'default'}): {len(kept)} tracks, NMI {s.means['nmi']:.3f} ± "
          f"{s.nmi_std:.3f}, P@10 {s.p10:.3f}")


def main() -> None:
    from scipy.stats import wilcoxon
    from sklearn.metrics import normalized_mutual_info_score as nmi

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, action="append", required=True)
    ap.add_argument("--model", default="MSD_musicnn")
    ap.add_argument("--caps", default="4,8,12,16,24,35,all")
    ap.add_argument("--reference", default="35", help="the cap the others are tested against")
    ap.add_argument("--product", action="store_true",
                    help="instead: score what Library.analyse stores (--max-windows or default)")
    ap.add_argument("--max-windows", type=int, default=None)
    args = ap.parse_args()
    if args.product:
        for folder in args.folder:
            product(folder.resolve(), args.max_windows)
        return
    caps = [None if c == "all" else int(c) for c in args.caps.split(",")]
    ref = None if args.reference == "all" else int(args.reference)
    rng = np.random.default_rng(0)
    for folder in args.folder:
        _, y, per_track = window_vectors(folder.resolve(), args.model)
        n_win = np.array([len(v) for v in per_track])
        k = len(set(y))
        boots = rng.integers(0, len(y), (BOOTSTRAPS, len(y)))
        results = {}
        for cap in dict.fromkeys([ref, *caps]):
            X = capped(per_track, cap)
            labs = per_seed_labels(X, k)
            results[cap] = (labs, np.array([nmi(y, lab) for lab in labs]), p10_hits(X, y))
        print(f"\n{folder.name}: {len(y)} tracks, {k} labels, windows per track mean "
              f"{n_win.mean():.1f} (max {n_win.max()}); reference cap {args.reference}")
        print("| patches per track (cap) | mean patches | NMI mean ± std | ΔNMI vs ref "
              "(Wilcoxon p; bootstrap 95 %) | P@10 | ΔP@10 (bootstrap 95 %) | verdict |")
        print("|---|---|---|---|---|---|---|")
        ref_labs, ref_nmi, ref_hits = results[ref]
        for cap in caps:
            labs, scores, hits = results[cap]
            kept = np.minimum(n_win, cap or n_win.max()).mean()
            d_nmi = scores - ref_nmi
            p = wilcoxon(scores, ref_nmi).pvalue if np.any(d_nmi) else 1.0
            bd = np.array([np.mean([nmi(y[b], a[b]) - nmi(y[b], r[b])
                                    for a, r in zip(labs, ref_labs)]) for b in boots[:NMI_BOOTS]])
            bp = (hits[boots] - ref_hits[boots]).mean(axis=1)
            lo, hi = np.percentile(bd, [2.5, 97.5])
            plo, phi = np.percentile(bp, [2.5, 97.5])
            loss = ((p < 0.10 and d_nmi.mean() < 0) or np.percentile(bd, 95) < 0
                    or np.percentile(bp, 95) < 0)
            gain = p < 0.05 and d_nmi.mean() > 0 and lo > 0
            verdict = "loss" if loss else "gain (NMI)" if gain else "within noise"
            print(f"| {cap or 'all'} | {kept:.1f} | {scores.mean():.3f} ± {scores.std():.3f} | "
                  f"{d_nmi.mean():+.3f} (p {p:.2f}; {lo:+.3f}..{hi:+.3f}) | {hits.mean():.3f} | "
                  f"{hits.mean() - ref_hits.mean():+.3f} ({plo:+.3f}..{phi:+.3f}) | {verdict} |",
                  flush=True)


if __name__ == "__main__":
    main()
