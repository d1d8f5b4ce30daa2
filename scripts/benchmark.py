"""Benchmark of the hand-crafted path: per track against the naive recipe, then the whole run.

Part 1, one core, the same clips for both:
  (a) naive: librosa.load at 22050 Hz, then every librosa feature on its own from `y` (each one
      computes its own STFT), per 5 s chunk, frame means per chunk;
  (b) ours:  the project's own code: `audio.decode_windows` + `HandcraftedEmbedder.embed`.
Prints seconds per track (wall and CPU) for both and the ratio, then NMI against the genre
labels for k=4: chunk_average -> StandardScaler -> PCA(0.95) -> KMeans(n_init=10, seed 0).
When the `bliss-audio` wheel (Python binding of bliss-rs) is installed, it runs as a third
contestant on the same clips: its own decoder and its 23 features per track.
Part 2, all cores, in a fresh process (scripts/bench_pipeline.py): `Library.analyse` over half
the clips, then all of them, each into a fresh store: wall-clock and the peak resident memory
of all processes together.

    python scripts/benchmark.py            # all 200 clips of emotify-dev
    python scripts/benchmark.py --n 40     # a quicker look (balanced across genres)
"""

from __future__ import annotations

import os

# One core: set before numpy (and its BLAS) is imported anywhere.
for _var in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "RAYON_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse
import csv
import importlib.util
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from itertools import zip_longest
from pathlib import Path

import librosa
import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import normalized_mutual_info_score
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from beetsplug.cluster.analysis.audio import decode_windows
from beetsplug.cluster.embedders.features import SAMPLE_RATE, WINDOW_SECONDS
from beetsplug.cluster.embedders.handcrafted import HandcraftedEmbedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "emotify-dev"
NAIVE_SR = 22050
PADDING_THRESHOLD = 0.5


def clips(data: Path, n: int) -> list[tuple[Path, str]]:
    """The first n clips, taken round-robin across genres so any n stays balanced."""
    with open(data / "labels.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    by_genre: dict[str, list[tuple[Path, str]]] = {}
    for r in rows:
        by_genre.setdefault(r["genre"], []).append((data / r["file"], r["genre"]))
    mixed = [c for group in zip_longest(*by_genre.values()) for c in group if c is not None]
    return mixed[:n]


def cut(y: np.ndarray, sr: int) -> np.ndarray:
    """5 s windows; the last one zero-padded when at least half of it is present."""
    size = int(WINDOW_SECONDS * sr)
    full, rest = divmod(len(y), size)
    wins = [y[i * size : (i + 1) * size] for i in range(full)]
    if rest >= PADDING_THRESHOLD * size or not wins:
        wins.append(np.pad(y[full * size :], (0, size - rest)))
    return np.stack(wins).astype(np.float32)


def naive(path: Path) -> np.ndarray:
    """The seed reports' recipe: each feature on its own from the chunk's waveform."""
    y, sr = librosa.load(path, sr=NAIVE_SR, mono=True)
    rows = []
    for chunk in cut(y, sr):
        mfcc = librosa.feature.mfcc(y=chunk, sr=sr, n_mfcc=20)
        feats = [
            mfcc.mean(axis=1),
            mfcc.var(axis=1),
            librosa.feature.spectral_centroid(y=chunk, sr=sr).mean(axis=1),
            librosa.feature.spectral_bandwidth(y=chunk, sr=sr).mean(axis=1),
            librosa.feature.spectral_rolloff(y=chunk, sr=sr).mean(axis=1),
            librosa.feature.spectral_flatness(y=chunk).mean(axis=1),
            librosa.feature.spectral_contrast(y=chunk, sr=sr).mean(axis=1),
            librosa.feature.zero_crossing_rate(chunk).mean(axis=1),
            librosa.feature.rms(y=chunk).mean(axis=1),
            librosa.feature.chroma_stft(y=chunk, sr=sr).mean(axis=1),
            librosa.feature.tempo(y=chunk, sr=sr),
        ]
        rows.append(np.concatenate(feats))
    return np.mean(rows, axis=0)


EMBEDDER = HandcraftedEmbedder()


def ours(path: Path) -> np.ndarray:
    audio = decode_windows(path, EMBEDDER.sample_rate, EMBEDDER.window_seconds, PADDING_THRESHOLD)
    return EMBEDDER.embed(audio.windows).vectors.mean(axis=0)


def bliss(path: Path) -> np.ndarray:
    import bliss_audio  # optional peer, imported only when present

    return np.asarray(bliss_audio.Song(str(path)).analysis, dtype=np.float64)


def timed(fn: Callable[[Path], np.ndarray], paths: list[Path]) -> tuple[np.ndarray, float, float]:
    """Vectors plus wall and CPU seconds per track (CPU time is robust to a busy machine)."""
    fn(paths[0])  # warm-up: imports, filter-bank caches, librosa's lazy loads
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = np.stack([fn(p) for p in paths])
    n = len(paths)
    return vectors, (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n


def nmi(vectors: np.ndarray, labels: list[str], k: int = 4) -> float:
    x = StandardScaler().fit_transform(vectors)
    x = PCA(n_components=0.95, svd_solver="full").fit_transform(x)
    pred = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(x)
    return float(normalized_mutual_info_score(labels, pred))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="number of clips (default: all 200)")
    ap.add_argument("--data", type=Path, default=DATA, help="folder with labels.csv")
    args = ap.parse_args()
    picked = clips(args.data, args.n)
    paths, labels = [p for p, _ in picked], [g for _, g in picked]
    warnings.filterwarnings("ignore", category=UserWarning)  # librosa's n_fft warnings

    print(f"{len(paths)} clips, one core, {WINDOW_SECONDS:g} s windows")
    contestants = [("naive (librosa, 22050 Hz)", naive), (f"ours ({SAMPLE_RATE} Hz)", ours)]
    if importlib.util.find_spec("bliss_audio") is not None:
        contestants.append(("bliss-audio (Rust)", bliss))
    results = {}
    for name, fn in contestants:
        vectors, wall, cpu = timed(fn, paths)
        results[name] = (wall, cpu, nmi(vectors, labels), vectors.shape[1])
    print(f"{'':28s} {'wall s/track':>12s} {'cpu s/track':>12s} {'dim':>5s} {'NMI k=4':>8s}")
    for name, (wall, cpu, score, dim) in results.items():
        print(f"{name:28s} {wall:12.4f} {cpu:12.4f} {dim:5d} {score:8.3f}")
    (nw, nc, _, _), (ow, oc, _, _) = list(results.values())[:2]
    print(f"speed-up per track: wall {nw / ow:.1f}x, cpu {nc / oc:.1f}x")

    # Its own process: spawned workers re-import the main module, and this one carries
    # librosa, bliss and the naive recipe's state, which `beet` or the daemon never would.
    print("\nwhole run (scripts/bench_pipeline.py, a fresh process):", flush=True)
    subprocess.run([sys.executable, str(Path(__file__).with_name("bench_pipeline.py")),
                    "--backend", "handcrafted"], check=True)

if __name__ == "__main__":
    main()
