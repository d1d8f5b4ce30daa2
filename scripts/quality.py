"""Cluster quality on three labelled sets, and the rule that turns it into defaults.

For each set (default: emotify-dev, games-dev and the full-length library build/full-library, or
any folder ../shared/tools/make_full_library.sh builds) and backend, the tracks go through the
product's own analysis (Library.analyse into a store kept in bench-out/quality/, so a rerun only
reads; the hand-crafted store keeps every window of each track, and each window cap is cut from
it as the decoder cuts) and its own clustering (clustering.fit: standardise, PCA, unit rows or
not, KMeans; no warm start) at k = the number of labels, once per seed of SEEDS. Printed: NMI
(mean ± std over the seeds) and P@10 (the share of each track's 10 nearest neighbours with its
label in the cosine space `beet similar` ranks by; it has no seed) per set and option set, each
option set against the simplest under the rule of quality_stats (a Wilcoxon signed-rank test
over the seeds and a bootstrap over the tracks, both at 5 %), the choice the rule makes, and the
hand-crafted windows-per-track curve with its CPU cost per full track.

    OPENBLAS_NUM_THREADS=1 nice -n 10 python scripts/quality.py [--folder DIR ...]
        [--backend handcrafted --backend musicnn] [--cost-tracks 20]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
from emotify import REPO
from quality_sets import SETS, LabelledSet, analysed, labelled_set
from quality_stats import (
    ALPHA,
    RESAMPLES,
    Comparison,
    Scored,
    compare,
    neighbour_hits,
    resample_weights,
)
from quality_variants import Analysed, Space, Variant, variants

from beetsplug.cluster.analysis.audio import decode_windows, window_cap
from beetsplug.cluster.clustering import fit, quality
from beetsplug.cluster.config import DEFAULTS
from beetsplug.cluster.embedders.handcrafted import HandcraftedEmbedder

SEEDS = tuple(range(10))  # fixed: every option set meets the same KMeans starts
CURVE = (4, 8, 12, 16, 27, None)  # hand-crafted windows per track; None: every window


def score(space: Space, y: np.ndarray, seeds=SEEDS) -> Scored:
    """Each seed's clustering and its NMI, and each track's neighbour hits."""
    k = len(set(y))
    reduced = space.reduced()
    runs = np.stack([fit.fit(space.X, k, method=space.method, seed=seed,
                             reduced=reduced).labels for seed in seeds])
    nmi = np.array([quality.external_measures(list(y), r)["nmi"] for r in runs])
    return Scored(runs, nmi, neighbour_hits(space.neighbour_rows(), y))


def today_cap(a: Analysed) -> int:
    """The window cap the product gives this set today: its quantile length in windows."""
    return window_cap([d for d in a.durations if d], a.window_seconds,
                      float(DEFAULTS["window_quantile"]))


def cell(s: Scored) -> list[str]:
    return [f"{s.nmi.mean():.3f} ± {s.nmi.std():.3f}", f"{s.p10:.3f}"]


def verdict(c: Comparison) -> str:
    marks = ["better" if c.better else "NMI loss" if c.nmi_loss else "noise"]
    if c.p10_loss:
        marks.append("P@10 loss")
    return ", ".join(marks)


def passes(by_set: dict[str, Comparison]) -> bool:
    """The rule: better on every set by both tests, and no significant P@10 loss anywhere."""
    return all(c.better and not c.p10_loss for c in by_set.values())


def decide(backend: str, data: dict[str, Analysed], keep: dict[str, int | None],
           weights: dict[str, np.ndarray]) -> tuple[Variant, list[str]]:
    """Score every pooling/unit-row option set, each against the simplest; the choice is the
    one with the fewest changes among those that pass, else the simplest."""
    rows = []
    scored = {}
    for v in variants():
        scored[v] = {name: score(Variant(v.pooling, v.unit_rows, keep[name]).build(a), a.y)
                     for name, a in data.items()}
    simplest, *others = list(scored)
    head = ["option set", *[f"{n} {m}" for n in data for m in ("NMI", "P@10")]]
    rows += ["| " + " | ".join([f"{backend} · option set", *head[1:]]) + " |",
             "|" + "---|" * len(head)]
    for v, by_set in scored.items():
        rows.append("| " + " | ".join([f"{backend} · {v.name}",
                                       *[x for s in by_set.values() for x in cell(s)]]) + " |")
    rows.append("")
    passing = []
    for v in others:
        cmp = {n: compare(scored[v][n], scored[simplest][n], data[n].y, weights[n])
               for n in data}
        ok = passes(cmp)
        passing += [v] if ok else []
        rows.append(f"{backend} · {v.name} against {simplest.name}: "
                    f"{'PASSES' if ok else 'fails'}")
        rows += [f"    {n}: {c.text()} -> {verdict(c)}" for n, c in cmp.items()]
    choice = min(passing, key=lambda v: v.changes) if passing else simplest
    rows.append(f"{backend}: the rule keeps **{choice.name}**")
    return choice, rows


def curve(choice: Variant, data: dict[str, Analysed],
          weights: dict[str, np.ndarray]) -> tuple[int | None, list[str]]:
    """NMI and P@10 per windows-per-track cap, each against every window; the default is the
    fewest windows within noise of every window on every set."""
    def at(keep: int | None) -> dict[str, Scored]:
        return {n: score(Variant(choice.pooling, choice.unit_rows, keep).build(a), a.y)
                for n, a in data.items()}

    every = at(None)
    caps = sorted({c for c in CURVE if c} | {today_cap(a) for a in data.values()})
    rows = ["| windows per track | " + " | ".join(f"{n} NMI | {n} P@10" for n in data)
            + " | against every window |", "|" + "---|" * (2 + 2 * len(data))]
    fewest = None
    for keep in [*caps, None]:
        now = every if keep is None else at(keep)
        cmp = {n: compare(now[n], every[n], data[n].y, weights[n]) for n in data}
        lost = [f"{n}: {verdict(c)}" for n, c in cmp.items() if not c.within_noise]
        if keep in CURVE and keep is not None and not lost and fewest is None:
            fewest = keep
        label = "every window" if keep is None else str(keep)
        against = "; ".join(lost) if lost else "-" if keep is None else "within noise"
        rows.append(f"| {label} | " + " | ".join(x for s in now.values() for x in cell(s))
                    + f" | {against} |")
    today = ", ".join(f"{n} {today_cap(a)}" for n, a in data.items())
    rows.append(f"\ntoday's cap (window_quantile {DEFAULTS['window_quantile']}): {today}")
    rows.append(f"the rule's default: {fewest if fewest else 'every window'} windows per track")
    return fewest, rows


def cpu_cost(s: LabelledSet, tracks: int) -> list[str]:
    """CPU per full track (this process and its ffmpeg children) to decode and analyse each
    cap's windows, the tracks spread over the formats, every cap interleaved per file."""
    emb = HandcraftedEmbedder()
    by_format: dict[str, list[str]] = {}
    for p in s.labels:
        by_format.setdefault(Path(p).suffix.lower(), []).append(p)
    per = max(1, tracks // len(by_format))
    sample = [ps[i] for ps in by_format.values()
              for i in np.linspace(0, len(ps) - 1, min(per, len(ps))).round().astype(int)]
    caps: list[int | None] = [*[c for c in CURVE if c], None]

    def cpu() -> float:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + kids.ru_utime + kids.ru_stime

    def run(path: str, keep: int | None) -> None:
        d = decode_windows(Path(path), emb.sample_rate, emb.window_seconds,
                           max_windows=keep)
        emb.pool(emb.embed(d.windows).vectors)

    run(sample[0], 4)  # imports and first-call costs out of the figures
    spent = {c: 0.0 for c in caps}
    for path in sample:
        for keep in caps:
            t0 = cpu()
            run(path, keep)
            spent[keep] += cpu() - t0
    head = (f"\nCPU per track, decode + features, one thread, {len(sample)} tracks of "
            f"{s.name} ({', '.join(sorted(by_format))}), today's decoder:")
    return ([head]
            + [f"    {'every window' if c is None else f'{c} windows'}: "
               f"{1000 * spent[c] / len(sample):.0f} ms" for c in caps])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, action="append", default=None,
                    help="a labelled set (repeatable); default emotify-dev, games-dev, "
                         "build/full-library")
    ap.add_argument("--backend", action="append", default=None,
                    help="handcrafted and/or musicnn (default both)")
    ap.add_argument("--stores", type=Path, default=REPO / "bench-out" / "quality",
                    help="folder of the kept stores, one per set and backend")
    ap.add_argument("--cost-tracks", type=int, default=20,
                    help="full tracks timed for the curve's CPU cost (0: none)")
    args = ap.parse_args()
    folders = args.folder or [f for f in SETS if (f / "labels.csv").exists()]
    for missing in sorted(set(args.folder or SETS) - set(folders)):
        print(f"{missing}: no labels.csv (not built yet?); judged on the other sets only")
    sets = [labelled_set(f) for f in folders]
    weights = {s.name: None for s in sets}
    out = []
    for backend in args.backend or ["handcrafted", "musicnn"]:
        every = backend == "handcrafted"
        data = {s.name: analysed(s, backend, args.stores, every_window=every) for s in sets}
        for name, a in data.items():
            if weights[name] is None:
                weights[name] = resample_weights(len(a.y))
        keep = {n: today_cap(a) if every else None for n, a in data.items()}
        choice, rows = decide(backend, data, keep, weights)
        out += ["", *rows]
        if every:
            out += ["", f"windows per track, {backend} · {choice.name}:"]
            out += curve(choice, data, weights)[1]
            longest = max(sets, key=lambda s: np.nanmean(
                [d or np.nan for d in s.durations.values()]))
            if args.cost_tracks:
                out += cpu_cost(longest, args.cost_tracks)
    print(f"\nk = number of labels; NMI mean ± std over seeds {SEEDS[0]}-{SEEDS[-1]}; P@10 in "
          f"the `beet similar` space. Against: the difference, its bootstrap "
          f"{100 * (1 - ALPHA):g} % interval over the tracks ({RESAMPLES} resamples) "
          f"and the Wilcoxon signed-rank p over the seeds; significant at {ALPHA:g}.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
