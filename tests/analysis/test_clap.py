"""CLAP backend: a tiny random ClapConfig saved like a real checkpoint, loaded by the real code."""

from __future__ import annotations

import time

import numpy as np
import pytest
from audio_windows import clip_windows
from conftest import pick_clips

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from clap_tiny import save_tiny

from beetsplug.cluster.embedders.base import EmbedderError
from beetsplug.cluster.embedders.clap import ClapEmbedder

SR = 48_000


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return save_tiny(tmp_path_factory.mktemp("clap") / "tiny-clap")


@pytest.fixture(scope="module")
def windows(emotify):
    # one 10 s window from each genre plus a second window of the first clip
    first = clip_windows(pick_clips(1)[:1], SR, 10.0, per_clip=2)
    rest = clip_windows(pick_clips(1)[1:], SR, 10.0, per_clip=1)
    return np.concatenate([first, rest])


@pytest.fixture(scope="module")
def embedder(tiny_dir):
    return ClapEmbedder(str(tiny_dir), device="cpu")


def test_vectors_shape_unit_norm_and_determinism(tiny_dir, embedder, windows):
    out = embedder.embed(windows)
    assert out.vectors.shape == (len(windows), 16) == (len(windows), embedder.window_dim)
    assert out.vectors.dtype == np.float32 and out.tags is None
    np.testing.assert_allclose(np.linalg.norm(out.vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(embedder.embed(windows).vectors, out.vectors)
    again = ClapEmbedder(str(tiny_dir), device="cpu").embed(windows).vectors
    np.testing.assert_array_equal(again, out.vectors)
    # different music gives different vectors, even from a random network
    assert np.abs(out.vectors[0] - out.vectors[2]).max() > 1e-3


def test_batch_equals_one_by_one(embedder, windows):
    batch = embedder.embed(windows).vectors
    single = np.concatenate([embedder.embed(w[None]).vectors for w in windows])
    np.testing.assert_allclose(single, batch, atol=1e-5)


def test_torch_front_end_matches_the_extractor(tiny_dir, embedder, windows):
    extractor = transformers.ClapFeatureExtractor.from_pretrained(tiny_dir)
    ref = extractor(list(windows[:2]), sampling_rate=SR, return_tensors="np")["input_features"]
    ours = embedder._mel(torch.from_numpy(windows[:2])).numpy()
    assert ours.shape == ref.shape == (2, 1, 1001, 64)
    loud = ref > ref.max() - 80.0  # float32 vs float64 only differs deep in the noise floor
    assert np.abs(ours - ref)[loud].max() < 1e-2
    assert np.median(np.abs(ours - ref)) < 1e-3
    with torch.inference_mode():
        net = embedder._net(input_features=torch.from_numpy(ref), is_longer=None)
    expected = torch.nn.functional.normalize(net.audio_embeds, dim=-1).numpy()
    np.testing.assert_allclose(embedder.embed(windows[:2]).vectors, expected, atol=1e-5)


def test_matches_clap_model_get_audio_features(tiny_dir, embedder, windows):
    model = transformers.ClapModel.from_pretrained(tiny_dir).eval()
    with torch.inference_mode():
        feats = embedder._mel(torch.from_numpy(windows[:2]))
        ref = model.get_audio_features(input_features=feats).pooler_output.numpy()
    np.testing.assert_allclose(embedder.embed(windows[:2]).vectors, ref, atol=1e-5)


def test_fusion_extractor_config_and_fused_model_work(tmp_path, windows):
    # The extractor's default truncation="fusion" would hand an unfused model 4 channels.
    unfused = ClapEmbedder(str(save_tiny(tmp_path / "a", truncation="fusion")), device="cpu")
    fused = ClapEmbedder(str(save_tiny(tmp_path / "b", fusion=True, truncation="fusion")), "cpu")
    for emb in (unfused, fused):
        out = emb.embed(windows[:2]).vectors
        assert out.shape == (2, 16)
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
        np.testing.assert_array_equal(emb.embed(windows[:2]).vectors, out)


def test_short_window_is_repeat_padded(embedder, windows):
    short = windows[:1, : 3 * SR]
    tiled = np.zeros_like(windows[:1])
    tiled[:, : 9 * SR] = np.tile(short, (1, 3))
    np.testing.assert_allclose(embedder.embed(short).vectors, embedder.embed(tiled).vectors)


def test_version_names_the_model_and_changes_with_the_weights(tmp_path, tiny_dir, embedder):
    other = ClapEmbedder(str(save_tiny(tmp_path / "tiny-clap", seed=1)), device="cpu")
    assert "tiny-clap" in embedder.version and "tiny-clap" in other.version
    assert other.version != embedder.version
    assert ClapEmbedder(str(tiny_dir), device="cpu").version == embedder.version


def test_hub_name_loads_from_the_local_cache_only(tmp_path, tiny_dir, monkeypatch, windows):
    import huggingface_hub.constants

    repo = tmp_path / "models--laion--clap-htsat-unfused"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots").mkdir()
    (repo / "snapshots" / commit).symlink_to(tiny_dir, target_is_directory=True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    hub = ClapEmbedder("laion/clap-htsat-unfused", device="cpu")
    assert "laion/clap-htsat-unfused" in hub.version
    local = ClapEmbedder(str(tiny_dir), device="cpu")
    np.testing.assert_array_equal(hub.embed(windows[:1]).vectors, local.embed(windows[:1]).vectors)


def test_missing_model_fails_fast_with_one_clear_line(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    start = time.perf_counter()
    with pytest.raises(EmbedderError) as err:
        ClapEmbedder("laion/larger_clap_music", device="cpu")
    assert time.perf_counter() - start < 5.0
    message = str(err.value)
    assert "laion/larger_clap_music" in message and "hf download" in message
    assert "\n" not in message
    with pytest.raises(EmbedderError, match="does not exist"):
        ClapEmbedder(str(tmp_path / "no-such-model"), device="cpu")


def test_folder_without_weights_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EmbedderError, match="cannot load CLAP model"):
        ClapEmbedder(str(tmp_path), device="cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_a_gpu_is_a_clear_error(tiny_dir):
    with pytest.raises(EmbedderError, match="no CUDA GPU"):
        ClapEmbedder(str(tiny_dir), device="cuda")
