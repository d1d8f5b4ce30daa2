"""musicnn backend: the pretrained MSD_musicnn / MTT_musicnn taggers, ported to PyTorch.

The weights come from the `musicnn==0.1.0` wheel (installed with `--no-deps`: its metadata
asks for TensorFlow and numpy<1.17, neither needed here). The package is located, never
imported (it imports TensorFlow); its TF1 checkpoint is read in pure Python and converted
once to safetensors in the cache folder.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .base import Embedder, EmbedderError, Embedding
from .torchcommon import keep_freed_memory

try:
    import torch
except ImportError:  # the [deep] extra is not installed; the constructor says so
    torch = None

PIP_COMMAND = "pip install --no-deps musicnn==0.1.0"
PORT_VERSION = 1  # bump when the port's output for the same audio changes
# Patches (3 s windows) per track for MSD_musicnn unless `max_windows` is set: the fewest
# with no loss in NMI or P@10 against the library's quantile cap (35 on the full-length
# library) on any of the three dev sets, every larger cap passing too, at half the CPU
# (README, Measured figures: scripts/musicnn_curve.py). The other models keep the quantile
# cap: their curves were not measured.
MSD_PATCHES = 16

MSD_TAGS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists",
    "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s",
    "chill", "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
    "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock",
    "60s", "rnb", "indie pop", "sad", "House", "happy",
)  # fmt: skip
MTT_TAGS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera",
    "male", "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir",
    "voice", "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello",
    "no voice", "weird", "country", "metal", "female voice", "choral",
)  # fmt: skip
MODELS = {"MSD_musicnn": MSD_TAGS, "MTT_musicnn": MTT_TAGS, "MSD_vgg": MSD_TAGS}


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "beets-cluster"


def checkpoint_prefix(model: str) -> str:
    """The wheel's checkpoint prefix for `model`: a folder path ending in a separator, since
    the files are `<folder>/.index` and `<folder>/.data-00000-of-00001`."""
    spec = importlib.util.find_spec("musicnn")  # finds, does not import
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError(f"musicnn weights are not installed; run: {PIP_COMMAND}")
    folder = Path(next(iter(spec.submodule_search_locations))) / model
    if not (folder / ".index").is_file():
        raise EmbedderError(f"{folder} has no checkpoint; reinstall with: {PIP_COMMAND}")
    return f"{folder}{os.sep}"


def load_weights(model: str, cache_dir: Path) -> dict:
    """The torch state dict for `model`, converted from the wheel on first use."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, save_file

    from . import musicnn_net, vgg_net
    from .tf_checkpoint import CheckpointError, read_checkpoint

    cached = cache_dir / f"musicnn-{model}-v{PORT_VERSION}.safetensors"
    if cached.is_file():
        try:
            return load_file(cached)
        except SafetensorError:  # a truncated or foreign file: convert again below
            pass
    prefix = checkpoint_prefix(model)
    try:
        convert = (vgg_net if "vgg" in model else musicnn_net).state_dict_from_tf
        state = convert(read_checkpoint(prefix))
    except (CheckpointError, KeyError) as exc:
        raise EmbedderError(f"cannot read {prefix}: {exc}; reinstall: {PIP_COMMAND}") from exc
    try:
        _save_atomically(state, cached, save_file, model)
    except OSError:  # a read-only cache costs a conversion (~1-3 s) per start, no more
        pass
    return state


def _save_atomically(state: dict, path: Path, save_file, model: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:  # temp file + rename: a concurrent reader never sees half a file
        save_file(state, tmp, metadata={"source": f"musicnn==0.1.0/{model}"})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class MusicnnEmbedder(Embedder):
    """200-d penultimate layer (MSD_vgg: its 256-d last pool) and 50 tag probabilities per
    3 s window."""

    name = "musicnn"
    sample_rate = 16000
    window_seconds = 48128 / 16000  # 187 frames of hop 256, n_fft 512, no padding
    window_dim = 200
    batch_windows = 64

    def __init__(
        self, model: str = "MSD_musicnn", device: str = "auto", cache_dir: Path | None = None
    ) -> None:
        if model not in MODELS:
            raise EmbedderError(f"unknown musicnn model {model!r}; choose from {sorted(MODELS)}")
        if torch is None:
            raise EmbedderError(
                "the musicnn backend needs torch: pip install 'beets-cluster[deep]'"
            )
        from .feature_plan import mel_bank
        from .musicnn_net import WINDOW_SAMPLES, FastMusicnn, LogMel

        self.model = model
        self.version = f"0.1.0-{model}-port{PORT_VERSION}"
        if model == "MSD_musicnn":  # fewer windows of a long track: other stored vectors
            self.windows_per_track = MSD_PATCHES
            self.version += f"-patches{MSD_PATCHES}"
        self.tag_names = MODELS[model]
        self.window_samples = WINDOW_SAMPLES
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self.device = torch.device(device)
        except RuntimeError as exc:
            raise EmbedderError(f"bad torch device {device!r}: {exc}") from exc
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise EmbedderError(f"device {device!r} asked for, but torch sees no CUDA GPU")
        # fp16 on a GPU (the mel stays float32: 10000 * mel overflows float16)
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        # Small chunks on the CPU: one thread's CPU time per window measured lowest at 2
        # windows (1: +2-6%, 4: about +25%, 10: about +70%: the maps fall out of cache), and
        # the front end already runs near the core's fp32 peak. A GPU wants big batches.
        self.chunk = 512 if self.device.type == "cuda" else 2
        if self.device.type == "cpu":
            keep_freed_memory()

        weights = load_weights(model, cache_dir or default_cache_dir())
        if "vgg" in model:
            from .vgg_net import EMBEDDING_DIM, Vgg

            self.window_dim, self.net = EMBEDDING_DIM, Vgg(weights).to(self.device, self.dtype)
        else:
            self.net = FastMusicnn(weights).to(self.device, self.dtype)
        mel_basis = mel_bank(self.sample_rate, 512, 96)  # librosa's, without librosa
        self.log_mel = LogMel(mel_basis).to(self.device)

    def patches(self, windows: np.ndarray) -> torch.Tensor:
        """(n, 48128) audio -> (n, 187, 96) float32 log-mel patches on the device."""
        windows = np.asarray(windows, dtype=np.float32)
        if windows.ndim != 2 or windows.shape[1] != self.window_samples:
            raise ValueError(f"expected (n, {self.window_samples}) windows, got {windows.shape}")
        with torch.inference_mode():
            return self.log_mel(torch.from_numpy(windows).to(self.device))

    def forward(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(penultimate (n, 200), logits (n, 50)) as float32 numpy."""
        windows = np.asarray(windows, dtype=np.float32)
        if len(windows) == 0:
            return np.zeros((0, self.window_dim), np.float32), np.zeros((0, 50), np.float32)
        # as many CPU workers as torch would use threads (torch.set_num_threads governs both)
        workers = max(1, min(torch.get_num_threads(), len(windows)))
        # chunks of at most `self.chunk`, their count a multiple of the workers so that the
        # last round keeps every worker busy (10 windows in chunks of 2 on 2 workers: 3 + 2)
        rounds = -(-len(windows) // (self.chunk * workers))
        chunks = np.array_split(windows, min(len(windows), rounds * workers))
        if self.device.type != "cpu" or workers < 2:
            results = [self._forward_chunk(c) for c in chunks]
        else:
            # Worker threads with one intra-op thread each, taking chunks as they free up:
            # with torch's own threads every small op ends in a barrier, and on a busy
            # machine a spinning thread steals the core its partner needs (measured 3x
            # slower than one thread under load). Independent workers degrade gracefully.
            previous = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                with ThreadPoolExecutor(workers) as pool:
                    results = list(pool.map(self._forward_chunk, chunks))
            finally:
                torch.set_num_threads(previous)
        return np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results])

    def _forward_chunk(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            pen, logit = self.net(self.patches(windows).to(self.dtype))
        return pen.float().cpu().numpy(), logit.float().cpu().numpy()

    def embed(self, windows: np.ndarray) -> Embedding:
        vectors, logits = self.forward(windows)
        tags = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        return Embedding(vectors=vectors, tags=tags.astype(np.float32))
