"""The MSD_vgg port (embedders/vgg_net.py): against a literal NumPy reading of the TF graph
(NHWC, 'same' convs, batch norms, 'valid' max pools, TF's flatten) on random weights in the
checkpoint's own names and shapes; and, with the real weights, tags that fit real clips.

No TensorFlow golden outputs exist for vgg (tests/fixtures has musicnn's only), so the
layout is checked against the graph as written in `musicnn==0.1.0`'s models.vgg."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the vgg port needs torch (the [deep] extra)")

from beetsplug.cluster.embedders.vgg_net import POOLS, Vgg, state_dict_from_tf

EPS = 1e-3


def random_checkpoint(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Variables named and shaped as MSD_vgg's TF checkpoint."""
    t = {}
    for i in range(5):
        c_in = 1 if i == 0 else 128
        t[f"{i + 1}CNN/kernel"] = rng.normal(0, (2 / (9 * c_in)) ** 0.5, (3, 3, c_in, 128))
        t[f"{i + 1}CNN/bias"] = rng.normal(0, 0.1, 128)
    for i in range(6):
        n = 1 if i == 0 else 128
        scope = "batch_normalization" + (f"_{i}" if i else "")
        t[f"{scope}/gamma"] = rng.uniform(0.5, 1.5, n) * rng.choice([-1, 1], n)
        t[f"{scope}/beta"] = rng.normal(0, 0.1, n)
        t[f"{scope}/moving_mean"] = rng.normal(0, 0.2, n)
        t[f"{scope}/moving_variance"] = rng.uniform(0.5, 2.0, n)
    t["dense/kernel"] = rng.normal(0, 0.05, (256, 50))
    t["dense/bias"] = rng.normal(0, 0.1, 50)
    return {k: v.astype(np.float32) for k, v in t.items()}


def tf_vgg(x: np.ndarray, t: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """models.vgg, literally, in NHWC: x (B, 187, 96) -> (flat pool5, logits)."""
    def bn(h, scope):
        return ((h - t[f"{scope}/moving_mean"]) / np.sqrt(t[f"{scope}/moving_variance"] + EPS)
                * t[f"{scope}/gamma"] + t[f"{scope}/beta"])

    h = bn(x[..., None].astype(np.float64), "batch_normalization")
    for i, ((ph, pw), (sh, sw)) in enumerate(POOLS):
        kernel, (_, height, width, _) = t[f"{i + 1}CNN/kernel"], h.shape
        padded = np.pad(h, ((0, 0), (1, 1), (1, 1), (0, 0)))  # 'same' for a 3x3 kernel
        conv = sum(padded[:, dy : dy + height, dx : dx + width] @ kernel[dy, dx]
                   for dy in range(3) for dx in range(3)) + t[f"{i + 1}CNN/bias"]
        h = bn(np.maximum(conv, 0), f"batch_normalization_{i + 1}")
        out_h, out_w = (height - ph) // sh + 1, (width - pw) // sw + 1  # 'valid'
        h = np.stack([np.stack([h[:, y * sh : y * sh + ph, z * sw : z * sw + pw].max(axis=(1, 2))
                                for z in range(out_w)], axis=1) for y in range(out_h)], axis=1)
    flat = h.reshape(len(h), -1)
    return flat, flat @ t["dense/kernel"] + t["dense/bias"]


def test_the_port_follows_the_tf_graph_on_random_weights():
    rng = np.random.default_rng(0)
    tensors = random_checkpoint(rng)
    x = rng.normal(1.0, 1.0, (2, 187, 96)).astype(np.float32)
    net = Vgg(state_dict_from_tf(tensors))
    with torch.no_grad():
        flat, logits = (a.numpy() for a in net(torch.from_numpy(x)))
    want_flat, want_logits = tf_vgg(x, tensors)
    assert flat.shape == (2, 256) and logits.shape == (2, 50)
    np.testing.assert_allclose(flat, want_flat, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(logits, want_logits, rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(importlib.util.find_spec("musicnn") is None,
                    reason="musicnn weights absent: pip install --no-deps musicnn==0.1.0")
def test_msd_vgg_tags_fit_real_clips(tmp_path, emotify):
    from conftest import pick_clips

    from beetsplug.cluster.config import Settings
    from beetsplug.cluster.library import Library
    from beetsplug.cluster.records import Track

    clips = {str(p): p.parent.name for p in pick_clips(per_genre=3)}
    core = Library(Settings(backend="musicnn", model="MSD_vgg", device="cpu", workers=1,
                            store=tmp_path / "s.db", playlist_dir=tmp_path / "pl",
                            cache_dir=tmp_path / "cache", write_tags=False))
    try:
        core.analyse([Track(p) for p in clips])
        emb = core.embedder
        tags = core.store.tags(list(clips), emb.name, emb.version)
        names = list(emb.tag_names)
    finally:
        core.close()
    assert emb.window_dim == 256 and emb.version == "0.1.0-MSD_vgg-port1"
    assert len(tags) == len(clips)
    mean = {g: np.mean([tags[p] for p in clips if clips[p] == g], axis=0) for g in
            set(clips.values())}
    # a wrong layout gives tags unrelated to the music; the real model hears rock as rock
    assert mean["rock"][names.index("rock")] > mean["classical"][names.index("rock")] + 0.1
    assert (mean["electronic"][names.index("electronic")]
            > mean["classical"][names.index("electronic")])
