"""Benchmark the musicnn backend: speed against the plain port, memory, NMI; full tracks.

    PYTHONPATH=$PWD python scripts/bench_musicnn.py [--speed-clips 8] [--threads N]
    PYTHONPATH=$PWD nice -n 10 python scripts/bench_musicnn.py --full build/full-library \
        [--tracks 15,45] [--caps 35,default] [--profile-only]

With --full DIR (a labelled folder of full-length tracks, labels.csv with duration_s), only:
4. Where the time goes per full track, one thread, in this process, on the larger track set
   at the first cap: decoding at 16 kHz (the product's decode_windows; CPU of this process and
   of the ffmpeg children it waits for), the log-mel front end and the network per patch, and
   patches per track.
5. The whole product path per full track: `Library.analyse` (backend musicnn, 2 workers, a
   fresh store, no tag writing) in a fresh process per run, on the smaller and on the larger
   set of tracks (the smaller a subset of the larger), every process's CPU counted (the run's
   process, its workers and their ffmpeg children: RUSAGE_CHILDREN of this process); per track
   = the difference of the two runs over the difference in tracks, so start-up (torch, the
   weights, the pool) drops out. Each cap in --caps is one `max_windows` setting ("default":
   none set, so the library's quantile cap and the backend's own cap apply); the runs are
   interleaved (caps inner) so load drift on a shared machine hits all alike.

1. Speed, per 30 s clip (ten 3.008 s windows), model time only (audio is decoded first):
   - plain: the literal port (tests/helpers/musicnn_literal.py), every window alone (its own mel
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
import subprocess
import sys
import tempfile
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
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "helpers")]  # the literal port is a test reference
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


def full_tracks(folder: Path, counts: list[int]) -> list[list[tuple[Path, float]]]:
    """Nested track sets spread over the folder (sorted by path, so formats and games mix):
    each smaller set is a subset of the larger."""
    with open(folder / "labels.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    biggest = max(counts)
    picks = [rows[i] for i in np.linspace(0, len(rows) - 1, biggest).round().astype(int)]
    sets = []
    for n in counts:
        sub = [picks[i] for i in np.linspace(0, biggest - 1, n).round().astype(int)]
        sets.append([(folder / "music" / r["file"], float(r["duration_s"])) for r in sub])
    return sets


def profile_full(tracks: list[tuple[Path, float]], cap: int) -> None:
    """Decode, front end and network per full track, one thread, this process."""
    from beetsplug.cluster.analysis.audio import decode_windows

    torch.set_num_threads(1)
    embedder = MusicnnEmbedder(device="cpu")
    embedder.forward(np.zeros((2, embedder.window_samples), np.float32))  # warm-up
    both = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    decode = mel = net = 0.0
    patches = 0
    by_format: dict[str, list[float]] = {}
    for path, _ in tracks:
        c0 = sum(resource.getrusage(w).ru_utime + resource.getrusage(w).ru_stime for w in both)
        windows = decode_windows(path, SR, embedder.window_seconds, 0.5, cap).windows
        spent = sum(resource.getrusage(w).ru_utime + resource.getrusage(w).ru_stime
                    for w in both) - c0
        decode += spent
        by_format.setdefault(path.suffix.lstrip(".").lower(), []).append(spent)
        with torch.inference_mode():
            for i in range(0, len(windows), embedder.chunk):
                t0 = time.thread_time()
                patch = embedder.patches(windows[i : i + embedder.chunk])
                t1 = time.thread_time()
                embedder.net(patch)
                mel, net = mel + t1 - t0, net + time.thread_time() - t1
        patches += len(windows)
    n = len(tracks)
    print(f"where the time goes, {n} full tracks (mean {np.mean([d for _, d in tracks]):.0f} s)"
          f", max_windows {cap}, one thread: {patches / n:.1f} patches/track; per track "
          f"decode at 16 kHz {1000 * decode / n:.0f} ms CPU (ffmpeg children counted), "
          f"log-mel {1000 * mel / n:.0f} ms, network {1000 * net / n:.0f} ms "
          f"({1000 * net / patches:.1f} ms/patch)")
    print("  decode by format, ms CPU a track: " + ", ".join(
        f"{k} {1000 * np.mean(v):.0f} ({len(v)})" for k, v in sorted(by_format.items())))


RUN_ONE = """
import sys, time
from pathlib import Path
from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track
cap, store = sys.argv[1], Path(sys.argv[2])
tracks = [Track(p, duration=float(d)) for p, d in zip(sys.argv[3::2], sys.argv[4::2])]
core = Library(Settings(backend="musicnn", workers=2, store=store, write_tags=False,
                        playlist_dir=store.parent / "playlists",
                        max_windows=None if cap == "default" else int(cap)))
try:
    report = core.analyse(tracks)
finally:
    core.close()
assert report.analysed == len(tracks) and not report.failed, report
"""


def product_run(tracks: list[tuple[Path, float]], cap: str) -> tuple[float, float]:
    """(CPU of every process, wall) of one `Library.analyse` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        args = [str(a) for path, duration in tracks for a in (path, duration)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), os.environ.get("PYTHONPATH", "")]), "XDG_CACHE_HOME": str(
            default_cache_dir().parent)}
        subprocess.run([sys.executable, "-c", RUN_ONE, cap, str(Path(tmp) / "s.db"), *args],
                       check=True, env=env)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), wall


def full(folder: Path, counts: list[int], caps: list[str], rounds: int,
         profile_only: bool = False) -> None:
    sets = full_tracks(folder, counts)
    first = next((int(c) for c in caps if c != "default"), None)
    profile_full(sets[-1], first)
    if profile_only:
        return
    cpu = {(c, len(s)): [] for c in caps for s in sets}
    walls = {k: [] for k in cpu}
    for _ in range(rounds):
        for tracks in sets:
            for cap in caps:
                c, w = product_run(tracks, cap)
                cpu[cap, len(tracks)].append(c)
                walls[cap, len(tracks)].append(w)
    small, large = sets[0], sets[-1]
    extra = [d for t, d in large if (t, d) not in small]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"whole product path (Library.analyse, 2 workers, fresh process and store), "
          f"{len(small)} and {len(large)} full tracks, {rounds} round(s), under the caller's "
          f"nice; load average now {load} on {os.cpu_count()} CPUs; the {len(extra)} further "
          f"tracks: mean {np.mean(extra):.0f} s")
    for cap in caps:
        a, b = np.mean(cpu[cap, len(small)]), np.mean(cpu[cap, len(large)])
        wa, wb = np.mean(walls[cap, len(small)]), np.mean(walls[cap, len(large)])
        per = (b - a) / (len(large) - len(small))
        print(f"  max_windows {cap:>7s}: {len(small)} tracks {a:6.1f} s CPU ({wa:5.1f} s wall),"
              f" {len(large)} tracks {b:6.1f} s CPU ({wb:5.1f} s wall): per further track "
              f"{1000 * per:4.0f} ms CPU, {1000 * (wb - wa) / (len(large) - len(small)):4.0f} "
              f"ms wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="MSD_musicnn")
    parser.add_argument("--speed-clips", type=int, default=8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--skip-nmi", action="store_true")
    parser.add_argument("--full", type=Path, help="a labelled folder of full-length tracks")
    parser.add_argument("--tracks", default="15,45", help="--full: track counts, nested")
    parser.add_argument("--caps", default="35,default",
                        help="--full: max_windows settings (a number, or default)")
    parser.add_argument("--rounds", type=int, default=1, help="--full: runs of each")
    parser.add_argument("--profile-only", action="store_true",
                        help="--full: only where the time goes, at the first numeric cap")
    args = parser.parse_args()
    if args.full:
        full(args.full, sorted(int(n) for n in args.tracks.split(",")),
             args.caps.split(","), args.rounds, args.profile_only)
        return

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
