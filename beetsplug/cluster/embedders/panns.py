"""PANNs CNN14 embeddings from a checkpoint file the user names (never downloaded)."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np

from .base import Embedder, EmbedderError, Embedding
from .torchcommon import half_on_cuda, require_torch, resolve_device, torch, weights_digest

# Bump when the front end, the network code or the output of this module changes.
_CODE_VERSION = "1"
OFFICIAL_NAME = "Cnn14_mAP=0.431.pth"
WHERE = (
    f"download {OFFICIAL_NAME} from https://zenodo.org/record/3987831 "
    "and set the panns checkpoint option to its path"
)
# Front-end tensors and the AudioSet head: in the official file, not needed for the embedding.
_IGNORED = ("spectrogram_extractor.", "logmel_extractor.", "fc_audioset.")


class PannsEmbedder(Embedder):
    """The 2048-d CNN14 embedding (ReLU of `fc1`, the official `embedding` output) of each
    10 s window at 32 kHz. Not normalised: the analysis mean-pools windows per track."""

    name = "panns"
    sample_rate = 32_000
    window_seconds = 10.0
    window_dim = 2048

    def __init__(self, checkpoint: Path | str, device: str = "auto") -> None:
        require_torch(self.name)
        from .panns_net import Cnn14, LogMel  # torch at module level: only once it is known

        path = Path(checkpoint).expanduser()
        state = read_state_dict(path)
        self.device = resolve_device(device)
        with torch.device("meta"):  # no random init of 80M weights that are replaced at once
            net = Cnn14()
        net.front = LogMel()
        load_weights(net, state, path)
        self._net = net.to(self.device).eval()
        self.version = f"{_CODE_VERSION}:{path.name}:{weights_digest([path])}"
        # ~100 MB of activations per window: small batches keep a CPU run's memory modest.
        self.batch_windows = 64 if self.device.type == "cuda" else 4

    def embed(self, windows: np.ndarray) -> Embedding:
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        if windows.ndim != 2:
            raise ValueError(f"expected (n, samples) windows, got {windows.shape}")
        if len(windows) == 0:
            return Embedding(np.zeros((0, self.window_dim), np.float32))
        with torch.inference_mode():
            # The log-mel stays float32: power spectra of loud audio overflow fp16.
            logmel = self._net.front(torch.from_numpy(windows).to(self.device))
            with half_on_cuda(self.device):
                vectors = self._net.features(logmel)
        return Embedding(vectors.float().cpu().numpy())


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a PANNs `.pth` (under "model", as the official files) or of a bare
    state dict, read with `weights_only=True`."""
    if not path.is_file():
        raise EmbedderError(f"PANNs checkpoint {str(path)!r} not found: {WHERE}")
    try:
        # Training checkpoints also hold the sampler state (numpy arrays, a RandomState tuple):
        # allow exactly the numpy reconstructors, nothing that can run code.
        with torch.serialization.safe_globals(_numpy_globals()):
            blob = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EmbedderError(
            f"{path} is not a readable PyTorch checkpoint ({reason}): {WHERE}"
        ) from exc
    state = blob.get("model", blob) if isinstance(blob, dict) else None
    if not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise EmbedderError(f"{path} holds no state dict of tensors: {WHERE}")
    return state


def load_weights(net: torch.nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """Every network weight must come from the file (`assign`: `net` may live on the meta
    device); the front end is ours but must agree with the file's `melW`."""
    mel = state.get("logmel_extractor.melW")
    if mel is not None and (
        tuple(mel.shape) != tuple(net.front.bank.shape)
        or not torch.allclose(mel.float(), net.front.bank, atol=1e-5)
    ):
        raise EmbedderError(
            f"{path.name} was trained with another front end (not 32 kHz, 64 mels, 50-14000 Hz,"
            f" e.g. a 16 kHz CNN14); this backend needs the 32 kHz CNN14: {WHERE}"
        )
    weights = {
        k: v.float() if v.is_floating_point() else v
        for k, v in state.items()
        if not k.startswith(_IGNORED)
    }
    for key in net.state_dict():  # absent from files saved before torch 0.4.1
        if key.endswith("num_batches_tracked"):
            weights.setdefault(key, torch.tensor(0))
    try:
        missing, unexpected = net.load_state_dict(weights, strict=False, assign=True)
    except RuntimeError as exc:  # shape mismatches: another architecture
        raise EmbedderError(
            f"{path.name} is not a CNN14 checkpoint (shapes differ): {WHERE}"
        ) from exc
    if missing or unexpected:
        example = (missing or unexpected)[0]
        raise EmbedderError(
            f"{path.name} is not a CNN14 checkpoint ({len(missing)} weights missing,"
            f" {len(unexpected)} unexpected, e.g. {example!r}): {WHERE}"
        )


def _numpy_globals() -> list:
    """numpy names as pickled by numpy 1.x (`numpy.core`) and 2.x (`numpy._core`)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    allowed: list = [np.ndarray, np.dtype]
    allowed += [type(np.dtype(code)) for code in "?bBhHiIlLqQefdgFD"]
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed.append((multiarray._reconstruct, f"{module}._reconstruct"))
        allowed.append((multiarray.scalar, f"{module}.scalar"))
    return allowed
