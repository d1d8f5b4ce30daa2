"""The musicnn port against golden outputs of the original TensorFlow graph, on real clips:
the backend's network == the literal port (tests/helpers/musicnn_literal.py) == TensorFlow."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="the musicnn backend needs torch (the [deep] extra)")
if importlib.util.find_spec("musicnn") is None:
    pytest.skip(
        "musicnn weights absent: pip install --no-deps musicnn==0.1.0", allow_module_level=True
    )

import librosa
import soundfile as sf
import torch
from conftest import EMOTIFY, pick_clips
from musicnn_literal import literal_port

from beetsplug.cluster.embedders import musicnn as musicnn_mod
from beetsplug.cluster.embedders.base import EmbedderError
from beetsplug.cluster.embedders.musicnn import MusicnnEmbedder, default_cache_dir

GOLDEN = Path(__file__).parents[1] / "fixtures" / "musicnn_golden.npz"
STEP = 187 * 256  # windows follow the original's back-to-back 187-frame patches


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("musicnn-cache")


@pytest.fixture(scope="module")
def msd(cache: Path) -> MusicnnEmbedder:
    return MusicnnEmbedder("MSD_musicnn", device="cpu", cache_dir=cache)


@pytest.fixture(scope="module")
def mtt(cache: Path) -> MusicnnEmbedder:
    return MusicnnEmbedder("MTT_musicnn", device="cpu", cache_dir=cache)


def golden_windows(golden: dict[str, np.ndarray]) -> np.ndarray:
    """The exact input the TF goldens were made from, decoded again from the shared clips.

    (The fixture keeps no audio: emotify-dev is not ours to redistribute.) librosa.load at
    16 kHz, as the original's batch_data loads a track, rounded through float16 as the
    golden script did; bit-identical to what it fed TensorFlow.
    """
    n = int(golden["window_samples"])
    start, size = int(golden["segment_start"]), int(golden["segment_samples"])
    audio = []
    for clip in golden["clips"]:
        full, _ = librosa.load(EMOTIFY / str(clip), sr=16000)
        audio.append(full[start : start + size].astype(np.float16).astype(np.float32))
    return np.stack([clip[s : s + n] for clip in audio for s in golden["window_starts"]])


def golden_patches(golden: dict[str, np.ndarray]) -> np.ndarray:
    """The float16 log-mel patches the goldens' `_from_patches` outputs were made from."""
    mel = librosa.feature.melspectrogram(y=golden_windows(golden), sr=16000, n_fft=512,
                                         hop_length=256, n_mels=96, center=False)
    patches = np.log10(10000 * mel.astype(np.float32) + 1).transpose(0, 2, 1)
    return patches.astype(np.float16).astype(np.float32)


def clip_windows(path: Path) -> np.ndarray:
    audio, sr = sf.read(path, dtype="float32", always_2d=True)
    y = librosa.resample(audio.mean(axis=1), orig_sr=sr, target_sr=16000)
    n = 48128
    return np.stack([y[s : s + n] for s in range(0, len(y) - n + 1, STEP)])


@pytest.mark.parametrize("model", ["MSD_musicnn", "MTT_musicnn"])
def test_matches_tensorflow_from_audio(golden, msd, mtt, model):
    embedder = msd if model == "MSD_musicnn" else mtt
    penultimate, logits = embedder.forward(golden_windows(golden))
    np.testing.assert_allclose(logits, golden[f"{model}/logits"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(penultimate, golden[f"{model}/penultimate"], rtol=0, atol=1e-3)


def test_literal_port_matches_tensorflow_on_patches(golden, cache, msd):
    patches = torch.from_numpy(golden_patches(golden))
    with torch.inference_mode():
        _, logits = literal_port("MSD_musicnn", cache)(patches)
    want = golden["MSD_musicnn/logits_from_patches"]
    np.testing.assert_allclose(logits.numpy(), want, rtol=0, atol=1e-3)


@pytest.mark.parametrize("model", ["MSD_musicnn", "MTT_musicnn"])
def test_the_backends_network_matches_the_literal_port(golden, cache, msd, mtt, model):
    embedder = msd if model == "MSD_musicnn" else mtt
    noise = np.random.default_rng(2).standard_normal((2, 48128)).astype(np.float32)
    patches = torch.cat([torch.from_numpy(golden_patches(golden)), embedder.patches(noise)])
    with torch.inference_mode():
        want = literal_port(model, cache)(patches)
        got = embedder.net(patches)
    for name, ours, literal in zip(("penultimate", "logits"), got, want, strict=True):
        np.testing.assert_allclose(ours.numpy(), literal.numpy(), rtol=0, atol=1e-4)
        tf = golden[f"{model}/{name}_from_patches"]
        np.testing.assert_allclose(ours[:6].numpy(), tf, rtol=0, atol=1e-3)


def test_the_embedder_holds_only_the_network_it_runs(msd):
    modules = [type(v).__name__ for v in vars(msd).values() if isinstance(v, torch.nn.Module)]
    assert sorted(modules) == ["FastMusicnn", "LogMel"]


def test_mel_matches_librosa(golden, msd):
    windows = golden_windows(golden)
    mel = librosa.feature.melspectrogram(
        y=windows, sr=16000, n_fft=512, hop_length=256, n_mels=96, center=False
    )
    want = np.log10(10000 * mel + 1).transpose(0, 2, 1)
    got = msd.patches(windows).numpy()
    assert got.shape == (6, 187, 96)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_embed_shapes_tags_and_batching(golden, msd):
    windows = golden_windows(golden)
    together = msd.embed(windows)
    assert together.vectors.shape == (6, 200) and together.vectors.dtype == np.float32
    assert together.tags.shape == (6, 50) and len(msd.tag_names) == 50
    np.testing.assert_allclose(together.tags, 1 / (1 + np.exp(-golden["MSD_musicnn/logits"])),
                               atol=1e-4)  # fmt: skip
    alone = np.concatenate([msd.embed(w[None]).vectors for w in windows])
    np.testing.assert_allclose(together.vectors, alone, rtol=0, atol=1e-4)
    assert msd.embed(windows[:0]).vectors.shape == (0, 200)
    assert round(msd.window_seconds * msd.sample_rate) == windows.shape[1]


def test_rejects_windows_of_the_wrong_length(msd):
    with pytest.raises(ValueError, match="48128"):
        msd.embed(np.zeros((2, 48000), np.float32))


def test_weights_are_cached_and_a_broken_cache_is_rebuilt(cache, msd, monkeypatch):
    cached = cache / "musicnn-MSD_musicnn-v1.safetensors"
    assert cached.is_file()
    window = np.random.default_rng(0).standard_normal((1, 48128)).astype(np.float32) * 0.1
    want = msd.embed(window).vectors
    # with the wheel gone, the cache alone must do
    monkeypatch.setattr(musicnn_mod, "checkpoint_prefix", _no_wheel)
    np.testing.assert_array_equal(MusicnnEmbedder(cache_dir=cache).embed(window).vectors, want)
    monkeypatch.undo()
    cached.write_bytes(b"not a safetensors file")
    np.testing.assert_array_equal(MusicnnEmbedder(cache_dir=cache).embed(window).vectors, want)
    assert cached.stat().st_size > 1_000_000


def test_a_cache_that_cannot_be_written_still_gives_weights(tmp_path, msd):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    window = np.random.default_rng(1).standard_normal((1, 48128)).astype(np.float32) * 0.1
    got = MusicnnEmbedder(cache_dir=blocked / "cache").embed(window).vectors
    np.testing.assert_array_equal(got, msd.embed(window).vectors)


def _no_wheel(model: str) -> str:
    raise AssertionError("the checkpoint was read although the cache holds the weights")


def test_missing_wheel_says_the_pip_command(tmp_path, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "musicnn" else real_find_spec(n, *a)
    )
    with pytest.raises(EmbedderError, match=r"pip install --no-deps musicnn==0\.1\.0"):
        MusicnnEmbedder(cache_dir=tmp_path)


def test_unknown_model_bad_device_and_cache_dir_default(tmp_path, monkeypatch):
    with pytest.raises(EmbedderError, match="MSD_musicnn"):
        MusicnnEmbedder("MTT_vgg", cache_dir=tmp_path)  # MSD_vgg is one now
    with pytest.raises(EmbedderError, match="device"):
        MusicnnEmbedder(device="tpu:x", cache_dir=tmp_path)
    if not torch.cuda.is_available():
        with pytest.raises(EmbedderError, match="CUDA"):
            MusicnnEmbedder(device="cuda", cache_dir=tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "beets-cluster"


# MSD's 50 tags have no "classical": the original TF model calls acoustic instrumental music
# "instrumental" or "jazz" (so does the golden fixture's classical clip), hence "jazz" here.
CALM_TAGS = {
    "instrumental", "ambient", "beautiful", "chillout", "chill", "Mellow", "easy listening",
    "acoustic", "experimental", "jazz",
}  # fmt: skip


@pytest.mark.slow
def test_classical_clips_get_calm_instrumental_tags_rock_clips_do_not(emotify, msd):
    clips = [c for c in pick_clips(10) if c.parent.name in ("classical", "rock")]
    hits = {"classical": 0, "rock": 0}
    instrumental = {"classical": 0.0, "rock": 0.0}
    for clip in clips:
        tags = msd.embed(clip_windows(clip)).tags.mean(axis=0)
        hits[clip.parent.name] += msd.tag_names[int(np.argmax(tags))] in CALM_TAGS
        instrumental[clip.parent.name] += tags[msd.tag_names.index("instrumental")] / 10
    assert hits["classical"] >= 7, hits
    assert hits["rock"] <= 2, hits
    assert instrumental["classical"] > 2 * instrumental["rock"], instrumental


def test_a_full_track_gives_the_backends_patches_unless_max_windows_is_set(
        full_slice, tmp_path, cache, msd, mtt):
    """musicnn keeps at most its measured number of patches per track (README, Measured
    figures: quality against patches per track) where the library's quantile cap would keep
    every window of a lone 2-minute track; a `max_windows` the user sets stands as set."""
    from beetsplug.cluster.config import Settings
    from beetsplug.cluster.library import Library
    from beetsplug.cluster.records import Track

    with open(full_slice.root / "labels.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    row = next(r for r in rows if r["format"] == "mp3" and float(r["duration_s"]) > 120)
    track = Track(str(full_slice.music / row["file"]), duration=float(row["duration_s"]))
    every = int(float(row["duration_s"]) // MusicnnEmbedder.window_seconds)
    cap = musicnn_mod.MSD_PATCHES
    assert every > cap + 3
    # fewer windows of long tracks are other stored vectors: a new version; MTT is unchanged
    assert (msd.windows_per_track, msd.version) == (cap, f"0.1.0-MSD_musicnn-port1-patches{cap}")
    assert (mtt.windows_per_track, mtt.version) == (None, "0.1.0-MTT_musicnn-port1")
    for setting, want in ((None, cap), (cap + 3, cap + 3)):
        store = tmp_path / f"{setting}.db"
        core = Library(Settings(backend="musicnn", aggregate="chunk_level", workers=1,
                                max_windows=setting, store=store, write_tags=False,
                                playlist_dir=tmp_path / "playlists", cache_dir=cache))
        try:
            assert core.analyse([track]).analysed == 1
            emb = core.embedder
            _, windows = core.store.arrays([track.path], emb.name, emb.version, windows=True)
        finally:
            core.close()
        assert windows[0].shape == (want, 200), setting
