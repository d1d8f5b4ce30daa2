"""CLAP audio embeddings (LAION) through transformers, from the hub cache or a local folder."""

from __future__ import annotations

import contextlib
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .base import Embedder, EmbedderError, Embedding
from .torchcommon import (
    DEEP_EXTRA,
    half_on_cuda,
    log_mel_db,
    require_torch,
    resolve_device,
    torch,
    weights_digest,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

DEFAULT_MODEL = "laion/clap-htsat-unfused"
MUSIC_MODEL = "laion/larger_clap_music"
# Bump when the front end, the windowing or the output of this module changes.
_CODE_VERSION = "1"
_CONFIGS = ("config.json", "preprocessor_config.json", "processor_config.json")


class ClapEmbedder(Embedder):
    """One L2-normalised vector (512-d for the LAION checkpoints) per 10 s window at 48 kHz.

    The analysis cuts the windows (deterministic, unlike the extractor's `rand_trunc`) and
    mean-pools them per track; a mean of unit vectors is not unit length, so whoever compares
    tracks by cosine should normalise the pooled vector again. The log-mel front end follows the
    checkpoint's `preprocessor_config.json` but runs in torch on the model's device (the
    transformers extractor is numpy-only); its output matches the extractor's.
    On CUDA the network runs in fp16 autocast. Precision is not part of `version`: fp16 rounding
    is small next to the distances between tracks, and moving a library between a GPU machine
    and a CPU one should not re-analyse it.
    """

    name = "clap"
    sample_rate = 48_000
    window_seconds = 10.0

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "auto") -> None:
        require_torch(self.name)
        if find_spec("transformers") is None:
            raise EmbedderError(f"the clap backend needs transformers: {DEEP_EXTRA}")
        folder = resolve_model(model)  # before the slow transformers import: fail fast
        self.device = resolve_device(device)
        self._folder, self._model, self._text = folder, model, None
        net, extractor = _load(folder, model)
        self._net = net.to(self.device).eval()
        self._mel = _LogMel(extractor, self.device)
        self.sample_rate = int(extractor.sampling_rate)
        self.window_seconds = extractor.nb_max_samples / extractor.sampling_rate
        self.window_dim = int(net.config.projection_dim)
        local = Path(model).expanduser().is_dir()
        label = folder.resolve().name if local else model
        files = sorted(folder.iterdir())
        weights = [p for p in files if p.suffix in (".safetensors", ".bin")]
        configs = [p for p in files if p.name in _CONFIGS]
        self.version = f"{_CODE_VERSION}:{label}:{weights_digest(weights, configs)}"
        # Batches of 8 kept a run with the unfused-size tower near 1 GB peak RSS; GPUs want more.
        self.batch_windows = 128 if self.device.type == "cuda" else 8

    def embed(self, windows: np.ndarray) -> Embedding:
        if len(windows) == 0:
            return Embedding(np.zeros((0, self.window_dim), np.float32))
        audio = torch.from_numpy(self._mel.fit(windows)).to(self.device)
        with torch.inference_mode():
            features = self._mel(audio)  # float32 outside autocast: power spectra overflow fp16
            no_fusion = torch.zeros((len(audio), 1), dtype=torch.bool, device=self.device)
            with half_on_cuda(self.device):
                out = self._net(input_features=features, is_longer=no_fusion).audio_embeds
            vectors = torch.nn.functional.normalize(out.float(), dim=-1)
        return Embedding(vectors.cpu().numpy().astype(np.float32))

    def embed_text(self, words: str) -> np.ndarray:
        """The text tower's unit vector for `words`, in the audio embeddings' space (`beet
        similar --text`). The tower loads on first use: analysis never pays for it."""
        if self._text is None:
            self._text = _load_text(self._folder, self._model, self.device)
        net, tokenizer = self._text
        inputs = tokenizer([words], padding=True, return_tensors="pt")
        with torch.inference_mode():
            out = net(**{k: v.to(self.device) for k, v in inputs.items()}).text_embeds
            vector = torch.nn.functional.normalize(out.float(), dim=-1)[0]
        return vector.cpu().numpy().astype(np.float32)


def _load_text(folder: Path, model: str, device: torch.device) -> tuple[object, object]:
    from transformers import AutoTokenizer, ClapTextModelWithProjection

    try:
        with _quiet_transformers():
            net, info = ClapTextModelWithProjection.from_pretrained(
                folder, local_files_only=True, output_loading_info=True)
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise EmbedderError(f"CLAP model {model!r} has no usable text tower: {exc}") from exc
    if info["missing_keys"] or info["mismatched_keys"]:
        raise EmbedderError(f"CLAP model {model!r} has no text tower (its text weights are "
                            "missing): --text needs a full CLAP checkpoint")
    return net.to(device).eval(), tokenizer


class _LogMel:
    """The extractor's log-mel (`_np_extract_fbank_features`) in torch, on any device.

    Same Hann window, centred reflect-padded STFT, power 2, the extractor's own filter bank
    (HTK for `truncation="fusion"`, Slaney otherwise) and 10*log10 with a 1e-10 floor.
    """

    def __init__(self, extractor: object, device: torch.device) -> None:
        fusion = extractor.truncation == "fusion"
        bank = extractor.mel_filters if fusion else extractor.mel_filters_slaney
        self.bank = torch.tensor(bank, dtype=torch.float32, device=device)  # (freqs, mels)
        self.n_fft = int(extractor.fft_window_size)
        self.hop = int(extractor.hop_length)
        self.samples = int(extractor.nb_max_samples)
        self.repeat = extractor.padding in ("repeat", "repeatpad")
        self.window = torch.hann_window(self.n_fft, periodic=True, device=device)

    def fit(self, windows: np.ndarray) -> np.ndarray:
        """Windows at exactly the model's length; short ones padded the way the extractor does."""
        windows = np.asarray(windows, dtype=np.float32)
        if windows.ndim != 2 or windows.shape[1] > self.samples:
            raise ValueError(f"expected (n, <= {self.samples}) windows, got {windows.shape}")
        length = windows.shape[1]
        if length == self.samples:
            return np.ascontiguousarray(windows)
        if self.repeat and length > 0:  # "repeatpad": whole repeats, then silence
            windows = np.tile(windows, (1, self.samples // length))
        out = np.zeros((len(windows), self.samples), np.float32)
        out[:, : windows.shape[1]] = windows
        return out

    def __call__(self, audio: torch.Tensor) -> torch.Tensor:
        """(n, samples) float32 -> (n, 1, frames, mels), the model's `input_features`."""
        return log_mel_db(audio, self.n_fft, self.hop, self.window, self.bank)


def resolve_model(model: str) -> Path:
    """A local folder, or a hub name already in the local hub cache; never the network."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if path.is_absolute() or model.startswith((".", "~")) or model.count("/") != 1:
        raise EmbedderError(f"CLAP model folder {model!r} does not exist")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(model, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError) as exc:
        raise EmbedderError(_missing(model)) from exc


def _missing(model: str) -> str:
    return (
        f"CLAP model {model!r} is not on this machine and is never downloaded at run time: "
        f"run `hf download {model}` (older huggingface_hub: `huggingface-cli download {model}`) "
        "on a machine with network, or set the model option to a local folder holding its "
        "config.json, model.safetensors and preprocessor_config.json"
    )


def _load(folder: Path, model: str) -> tuple[object, object]:
    """The audio tower + projection only: the text tower would double the memory for nothing."""
    from transformers import ClapAudioModelWithProjection, ClapFeatureExtractor

    try:
        with _quiet_transformers():
            net, info = ClapAudioModelWithProjection.from_pretrained(
                folder, local_files_only=True, output_loading_info=True
            )
            extractor = ClapFeatureExtractor.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as exc:
        if folder.exists() and any(folder.iterdir()):
            raise EmbedderError(f"cannot load CLAP model {model!r} from {folder}: {exc}") from exc
        raise EmbedderError(_missing(model)) from exc
    if info["missing_keys"] or info["mismatched_keys"]:
        raise EmbedderError(f"{model!r} is not a CLAP checkpoint: some audio weights are missing")
    return net, extractor


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """The text-tower weights are skipped on purpose; their load report is noise."""
    from transformers.utils import logging as hf_logging

    verbosity, bar = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bar:
            hf_logging.enable_progress_bar()
