"""CPU throughput and peak memory of the CLAP and PANNs backends, with random weights saved
the way real checkpoints are and loaded through the real code (no hub, no downloads).

    PYTHONPATH=$PWD:$PWD/tests/helpers OMP_NUM_THREADS=2 python scripts/bench_deep_cpu.py clap-tiny
    ... clap-unfused-size | panns | missing-model
Each run is one process, so the peak RSS printed is that backend's alone.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path


def clap_folder(root: Path, real_size: bool) -> Path:
    import torch
    import transformers
    from clap_tiny import TINY_AUDIO, TINY_TEXT

    torch.manual_seed(0)
    audio = {} if real_size else TINY_AUDIO  # {} = the defaults = laion/clap-htsat-unfused
    text = TINY_TEXT
    config = transformers.ClapConfig(audio_config=audio, text_config=text)
    transformers.ClapModel(config).save_pretrained(root)
    transformers.ClapFeatureExtractor(truncation="rand_trunc", frequency_min=50).save_pretrained(
        root
    )
    return root


def panns_file(root: Path) -> Path:
    from panns_weights import official_state, save_official

    path = root / "Cnn14_mAP=0.431.pth"
    save_official(path, official_state(seed=0))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "backend", choices=["clap-tiny", "clap-unfused-size", "panns", "missing-model"]
    )
    parser.add_argument("--clips", type=int, default=4, help="clips per genre, 10 s windows each")
    args = parser.parse_args()
    if args.backend == "missing-model":
        start = time.perf_counter()
        from beetsplug.cluster.embedders.base import EmbedderError
        from beetsplug.cluster.embedders.clap import ClapEmbedder

        imported = time.perf_counter()
        try:
            ClapEmbedder("laion/larger_clap_music", device="cpu")
        except EmbedderError as exc:
            done = time.perf_counter()
            print(
                f"imports {imported - start:.2f} s, then the error after"
                f" {(done - imported) * 1000:.1f} ms: {exc}"
            )
        return
    from audio_windows import clip_windows
    from conftest import pick_clips

    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "panns":
            from beetsplug.cluster.embedders.panns import PannsEmbedder

            embedder = PannsEmbedder(panns_file(Path(tmp)), device="cpu")
        else:
            from beetsplug.cluster.embedders.clap import ClapEmbedder

            folder = clap_folder(Path(tmp) / "clap", args.backend == "clap-unfused-size")
            embedder = ClapEmbedder(str(folder), device="cpu")
        windows = clip_windows(pick_clips(args.clips), embedder.sample_rate, 10.0, per_clip=1)
        embedder.embed(windows[:1])  # warm-up
        start = time.perf_counter()
        for i in range(0, len(windows), embedder.batch_windows):
            embedder.embed(windows[i : i + embedder.batch_windows])
        took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.backend}: {len(windows)} windows in {took:.2f} s = {len(windows) / took:.2f}"
        f" windows/s (batch {embedder.batch_windows}); peak RSS {peak:.0f} MB; {sys.argv}"
    )


if __name__ == "__main__":
    main()
