"""Make tests/fixtures/musicnn_golden.npz with the ORIGINAL musicnn TensorFlow graph.

Never run in CI or by the tests: it needs real TensorFlow, in a throw-away venv outside the
checkout, e.g.

    python -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu==2.15.1 librosa==0.11.0 soundfile
    /tmp/tfvenv/bin/pip install --no-deps musicnn==0.1.0
    /tmp/tfvenv/bin/python scripts/make_musicnn_golden.py

For one classical, one rock and one electronic clip of emotify-dev it keeps 6 s of 16 kHz
audio (rounded to float16 so the fixture is small and the stored audio is exactly what was
fed), the two 3.008 s windows cut from it, their log-mel patches, and for MSD_musicnn and
MTT_musicnn the graph's logits and penultimate layer. The graph is musicnn's own
`models.define_model`, restored from the wheel's checkpoint with `tf.compat.v1.train.Saver`,
exactly as `musicnn.extractor` does; only the float16 cast of the mel is left out (it
overflows on loud input; the port computes in float32).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
from pathlib import Path

import librosa
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
from musicnn import models  # after disabling eager mode, as musicnn.extractor does

ROOT = Path(__file__).resolve().parents[1]
EMOTIFY = ROOT.parent / "shared" / "data" / "emotify-dev"
SR, HOP, N_FFT, N_MELS, N_FRAMES = 16000, 256, 512, 96, 187
WINDOW = (N_FRAMES - 1) * HOP + N_FFT  # 48128 samples: 187 frames with center=False
STEP = N_FRAMES * HOP  # 47872: windows follow the original's back-to-back patches
FIRST_PATCH = 3  # which patch of the original's full-track batching the first window is
N_WINDOWS = 2
GENRES = ("classical", "rock", "electronic")
MODELS = {"MSD_musicnn": 50, "MTT_musicnn": 50}


def log_mel(y: np.ndarray, center: bool) -> np.ndarray:
    mel = librosa.feature.melspectrogram(
        y=y, sr=SR, hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS, center=center
    ).T
    return np.log10(10000 * mel.astype(np.float32) + 1)


def first_clip(genre: str) -> Path:
    with open(EMOTIFY / "labels.csv", newline="") as f:
        rows = sorted(r["file"] for r in csv.DictReader(f) if r["genre"] == genre)
    return EMOTIFY / rows[0]


def run_graph(model: str, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        out = models.define_model(x, is_training, model, MODELS[model])
        logits, penultimate = out[0], out[-1]
    package = Path(importlib.util.find_spec("musicnn").submodule_search_locations[0])
    with tf.compat.v1.Session() as sess:
        tf.compat.v1.train.Saver().restore(sess, f"{package / model}/")
        # one patch per run, as musicnn.extractor does (BATCH_SIZE = 1)
        rows = [
            sess.run([logits, penultimate], {x: patches[i : i + 1], is_training: False})
            for i in range(len(patches))
        ]
    return np.concatenate([r[0] for r in rows]), np.concatenate([r[1] for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests/fixtures/musicnn_golden.npz")
    args = parser.parse_args()

    clips, audio, patches, patches16 = [], [], [], []
    start = FIRST_PATCH * STEP - HOP  # frame t of a window is then frame t of the patch
    for genre in GENRES:
        clip = first_clip(genre)
        full, _ = librosa.load(clip, sr=SR)  # as musicnn.extractor.batch_data loads it
        segment = full[start : start + STEP * (N_WINDOWS - 1) + WINDOW]
        segment = segment.astype(np.float16).astype(np.float32)
        # The windows' frames are the original's full-track frames: check it, so the port's
        # center=False windows are known to see what the original network saw.
        original = log_mel(full.astype(np.float16).astype(np.float32), center=True)
        for k in range(N_WINDOWS):
            window = segment[k * STEP : k * STEP + WINDOW]
            patch = log_mel(window, center=False)
            frames = original[(FIRST_PATCH + k) * N_FRAMES :][:N_FRAMES]
            np.testing.assert_allclose(patch, frames, rtol=1e-4, atol=1e-4)
            patches.append(patch)
            # float16 copy: what the fixture stores for the network-only comparison
            patches16.append(patch.astype(np.float16))
        clips.append(str(clip.relative_to(EMOTIFY)))
        audio.append(segment.astype(np.float16))
        print(f"{genre}: {clip.name}")

    patches_arr = np.stack(patches)
    patches16_arr = np.stack(patches16)
    # No audio in the fixture (emotify-dev is not ours to redistribute): the tests decode the
    # same clips again, librosa.load at 16 kHz from `segment_start`, bit-identical.
    result: dict[str, np.ndarray] = {
        "clips": np.array(clips),
        "segment_start": np.array(start),
        "segment_samples": np.array(np.stack(audio).shape[1]),
        "window_starts": np.arange(N_WINDOWS) * STEP,
        "window_samples": np.array(WINDOW),
    }
    for model in MODELS:
        logits, pen = run_graph(model, patches_arr)
        logits16, pen16 = run_graph(model, patches16_arr.astype(np.float32))
        result[f"{model}/logits"] = logits.astype(np.float32)
        result[f"{model}/penultimate"] = pen.astype(np.float32)
        result[f"{model}/logits_from_patches"] = logits16.astype(np.float32)
        result[f"{model}/penultimate_from_patches"] = pen16.astype(np.float32)
        top = np.argmax(logits, axis=1)
        print(model, "top tag index per window:", top.tolist())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **result)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
