"""Benchmark the musicnn backend on emotify-dev: speed against the plain port, memory, NMI.

    PYTHONPATH=$PWD python scripts/bench_musicnn.py [--speed-clips 8] [--threads N]

1. Speed, per 30 s clip (ten 3.008 s windows), model time only (audio is decoded first):
   - plain: the literal port (tests/musicnn_literal.py), every window alone (its own mel
     and forward), float32, one torch thread;
   - embedder: `MusicnnEmbedder.embed` on the clip's windows at once, `--threads` threads;
   - embedder, 1 thread: the same with one thread, to separate algorithm from threads.
   The three run in turn on each clip (order rotating) so that load drift on a shared
   machine hits all of them alike; the ratio is total plain time / total embedder time.
2. NMI: every clip decoded (soundfile, librosa.resample to 16 kHz, mono), cut into windows
   every 187 * 256 samples, embedded; mean over windows of the 200-d vectors, standardised,
   KMeans k=4 (n_init=10), NMI against the genre label. Seeds 0-4; seed 0 is the headline.
3. Peak resident memory of this process (ru_maxrss), clips processed one at a time.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the literal port is a test reference
from musicnn_literal import LiteralMusicnn, literal_port

from beetsplug.cluster.embedders.musicnn import MusicnnEmbedder, default_cache_dir

EMOTIFY = ROOT.parent / "shared" / "data" / "emotify-dev"
SR, WINDOW, STEP = 16000, 48128, 187 * 256


def labels() -> list[tuple[Path, str]]:
    with open(EMOTIFY / "labels.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    return [(EMOTIFY / r["file"], r["genre"]) for r in rows]


def windows(path: Path) -> np.ndarray:
    audio, sr = sf.read(path, dtype="float32", always_2d=True)
    y = librosa.resample(audio.mean(axis=1), orig_sr=sr, target_sr=SR)
    return np.stack([y[s : s + WINDOW] for s in range(0, len(y) - WINDOW + 1, STEP)])


def plain(embedder: MusicnnEmbedder, port: LiteralMusicnn, wins: np.ndarray) -> np.ndarray:
    out = []
    with torch.inference_mode():
        for w in wins:
            patch = embedder.log_mel(torch.from_numpy(w[None]))
            out.append(port(patch)[0].numpy())
    return np.concatenate(out)


def timed(threads: int, fn) -> tuple[float, float]:
    """(wall, process CPU) seconds: on a shared machine CPU time shows the work itself."""
    torch.set_num_threads(threads)
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def speed(embedder: MusicnnEmbedder, clips: list[np.ndarray], threads: int) -> None:
    port = literal_port(embedder.model, default_cache_dir())
    runs = {
        "plain port (1 window at a time, 1 thread)": (1, lambda w: plain(embedder, port, w)),
        f"embedder ({threads} threads)": (threads, embedder.embed),
        "embedder (1 thread)": (1, embedder.embed),
    }
    for n, fn in runs.values():  # warm-up: allocator, oneDNN primitive caches
        timed(n, lambda f=fn: f(clips[0]))
    totals = {name: np.zeros(2) for name in runs}
    names = list(runs)
    for i, wins in enumerate(clips):
        for name in names[i % 3 :] + names[: i % 3]:
            n, fn = runs[name]
            totals[name] += timed(n, lambda f=fn, w=wins: f(w))
    base = totals[names[0]]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"speed over {len(clips)} clips of {len(clips[0])} windows, per clip "
          f"(wall, and process CPU time; load average {load} on {os.cpu_count()} CPUs):")
    for name, (wall, cpu) in totals.items():
        print(f"  {name:42s} wall {1000 * wall / len(clips):6.0f} ms  x{base[0] / wall:.2f}"
              f"   cpu {1000 * cpu / len(clips):6.0f} ms  x{base[1] / cpu:.2f}")  # fmt: skip


def nmi(embedder: MusicnnEmbedder, threads: int) -> None:
    torch.set_num_threads(threads)
    rows = labels()
    vectors, genres = [], []
    decode = model = 0.0
    for path, genre in rows:
        t0 = time.perf_counter()
        wins = windows(path)
        t1 = time.perf_counter()
        vectors.append(embedder.embed(wins).vectors.mean(axis=0))
        model += time.perf_counter() - t1
        decode += t1 - t0
        genres.append(genre)
    x = StandardScaler().fit_transform(np.stack(vectors))
    scores = []
    for seed in range(5):
        pred = KMeans(n_clusters=4, n_init=10, random_state=seed).fit_predict(x)
        scores.append(normalized_mutual_info_score(genres, pred))
    print(f"all {len(rows)} clips: decode+resample {1000 * decode / len(rows):.0f} ms/clip, "
          f"embed {1000 * model / len(rows):.0f} ms/clip ({threads} threads)")  # fmt: skip
    print(f"NMI vs genre, KMeans k=4 on standardised mean 200-d vectors: {scores[0]:.3f} "
          f"(seeds 0-4: {' '.join(f'{s:.3f}' for s in scores)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="MSD_musicnn")
    parser.add_argument("--speed-clips", type=int, default=8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--skip-nmi", action="store_true")
    args = parser.parse_args()

    embedder = MusicnnEmbedder(args.model, device="cpu")
    rows = labels()
    picks = [rows[i] for i in np.linspace(0, len(rows) - 1, args.speed_clips).astype(int)]
    speed(embedder, [windows(p) for p, _ in picks], args.threads)
    if not args.skip_nmi:
        nmi(embedder, args.threads)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
