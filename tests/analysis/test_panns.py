"""PANNs backend: random CNN14 weights saved in the official checkpoint layout, real loading."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from audio_windows import clip_windows
from conftest import pick_clips

torch = pytest.importorskip("torch")

from panns_weights import official_state, save_official

from beetsplug.cluster.embedders.base import EmbedderError
from beetsplug.cluster.embedders.panns import PannsEmbedder, read_state_dict
from beetsplug.cluster.embedders.panns_net import N_FFT

SR = 32_000


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("panns") / "Cnn14_mAP=0.431.pth"
    save_official(path, official_state(seed=0))
    return path


@pytest.fixture(scope="module")
def embedder(checkpoint):
    return PannsEmbedder(checkpoint, device="cpu")


@pytest.fixture(scope="module")
def windows(emotify):
    return clip_windows(pick_clips(1)[:3], SR, 10.0, per_clip=1)  # classical, electronic, pop


def test_front_end_equals_the_checkpoints_conv_stft_and_mel(checkpoint, embedder, windows):
    state = read_state_dict(checkpoint)
    audio = torch.from_numpy(windows[:1])
    padded = torch.nn.functional.pad(audio[:, None], (N_FFT // 2, N_FFT // 2), mode="reflect")
    real = torch.nn.functional.conv1d(
        padded, state["spectrogram_extractor.stft.conv_real.weight"], stride=320
    )
    imag = torch.nn.functional.conv1d(
        padded, state["spectrogram_extractor.stft.conv_imag.weight"], stride=320
    )
    power = (real**2 + imag**2).transpose(1, 2)
    ref = 10 * torch.log10((power @ state["logmel_extractor.melW"]).clamp_min(1e-10))
    ours = embedder._net.front(audio)[:, 0]
    assert ours.shape == ref.shape == (1, 1001, 64)
    loud = ref > ref.max() - 80
    assert (ours - ref).abs()[loud].max() < 0.05


@pytest.mark.slow
def test_embeddings_shape_determinism_and_batching(checkpoint, embedder, windows):
    out = embedder.embed(windows)
    assert out.vectors.shape == (3, 2048) and out.vectors.dtype == np.float32
    assert out.tags is None
    assert (out.vectors >= 0).all() and (out.vectors > 0).mean() > 0.1  # ReLU(fc1), alive
    assert np.abs(out.vectors[0] - out.vectors[1]).max() > 1e-3  # different music differs
    np.testing.assert_array_equal(embedder.embed(windows).vectors, out.vectors)
    single = np.concatenate([embedder.embed(w[None]).vectors for w in windows])
    scale = np.abs(out.vectors).max()
    np.testing.assert_allclose(single, out.vectors, atol=1e-4 * scale, rtol=1e-4)


def test_loaded_weights_are_the_files(checkpoint, embedder):
    state = read_state_dict(checkpoint)
    net = embedder._net.state_dict()
    for key in (
        "bn0.running_var",
        "conv_block3.conv2.weight",
        "conv_block6.bn2.weight",
        "fc1.bias",
    ):
        torch.testing.assert_close(net[key], state[key])
    assert embedder.batch_windows == 4 and embedder.window_dim == 2048


def test_version_names_the_file_and_changes_with_the_weights(tmp_path, checkpoint, embedder):
    other = tmp_path / "Cnn14_mAP=0.431.pth"
    save_official(other, official_state(seed=1))
    assert "Cnn14_mAP=0.431.pth" in embedder.version
    assert PannsEmbedder(other, device="cpu").version != embedder.version
    assert PannsEmbedder(checkpoint, device="cpu").version == embedder.version


def test_missing_and_unreadable_files_are_clear_errors(tmp_path):
    with pytest.raises(EmbedderError, match="not found: download Cnn14_mAP=0.431.pth"):
        PannsEmbedder(tmp_path / "nothing.pth", device="cpu")
    text = tmp_path / "page.pth"
    text.write_text("<html>not a checkpoint</html>")
    with pytest.raises(EmbedderError, match="not a readable PyTorch checkpoint"):
        PannsEmbedder(text, device="cpu")
    cut = tmp_path / "cut.pth"
    torch.save({"model": {"fc1.bias": torch.zeros(2048)}}, cut)
    cut.write_bytes(cut.read_bytes()[:200])
    with pytest.raises(EmbedderError, match="not a readable PyTorch checkpoint") as err:
        PannsEmbedder(cut, device="cpu")
    assert "\n" not in str(err.value)


def test_code_in_the_pickle_is_refused(tmp_path):
    evil = tmp_path / "evil.pth"
    torch.save({"model": {"fc1.bias": torch.zeros(2)}, "hook": zipfile.ZipFile}, evil)
    with pytest.raises(EmbedderError, match="not a readable PyTorch checkpoint"):
        PannsEmbedder(evil, device="cpu")


def test_other_networks_are_refused(tmp_path):
    small = {k: v for k, v in official_state(seed=0).items() if "block5" not in k}
    small = {k: v for k, v in small.items() if "block6" not in k}  # about CNN10's size
    cases = {
        "another front end": {"logmel_extractor.melW": torch.rand(257, 64)},  # a 16 kHz CNN14
        "weights missing": small,
        "shapes differ": dict(small, **{"fc1.weight": torch.zeros(512, 2048)}),
    }
    for i, (message, state) in enumerate(cases.items()):
        save_official(tmp_path / f"{i}.pth", state)
        with pytest.raises(EmbedderError, match=message) as err:
            PannsEmbedder(tmp_path / f"{i}.pth", device="cpu")
        assert "Cnn14_mAP=0.431.pth" in str(err.value)  # says where the right file is


def test_numpy1_pickles_of_the_sampler_state_load(tmp_path):
    """The official files date from numpy 1.x, whose arrays pickle as numpy.core.multiarray."""
    path = tmp_path / "old.pth"
    save_official(path, {"fc1.bias": torch.arange(3.0)})
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    assert any(b"numpy._core.multiarray\n" in data for _, data in items)  # protocol-2 GLOBALs
    old = tmp_path / "old1.pth"
    with zipfile.ZipFile(old, "w", zipfile.ZIP_STORED) as dst:
        for info, data in items:
            dst.writestr(
                info, data.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
            )
    state = read_state_dict(old)
    torch.testing.assert_close(state["fc1.bias"], torch.arange(3.0))
