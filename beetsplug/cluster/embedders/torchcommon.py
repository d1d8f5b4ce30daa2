"""Shared by the torch backends: the optional import, device, precision, digests of the weights."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
from typing import TYPE_CHECKING

from .base import EmbedderError

try:
    import torch
except ImportError:  # the deep extra is optional; backends raise a clear error instead
    torch = None

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

DEEP_EXTRA = "pip install 'beets-cluster[deep]'"


def require_torch(backend: str) -> None:
    if torch is None:
        raise EmbedderError(f"the {backend} backend needs PyTorch: {DEEP_EXTRA}")


def resolve_device(name: str) -> torch.device:
    """'auto' means the first CUDA GPU when torch sees one, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise EmbedderError(f"unknown torch device {name!r} (use auto, cpu or cuda)") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise EmbedderError(f"device {name!r} asked for, but PyTorch sees no CUDA GPU here")
    return device


@contextlib.contextmanager
def half_on_cuda(device: torch.device) -> Iterator[None]:
    """fp16 matmuls/convs on a GPU; autocast keeps norms and reductions in float32."""
    if device.type == "cuda":
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            yield
    else:
        yield


def weights_digest(weights: Iterable[Path], configs: Iterable[Path] = ()) -> str:
    """Identifies weights cheaply: configs in full; weight files by name, size, first and last
    64 KiB (a torch zip ends with the CRC32 of every tensor, a safetensors file starts with its
    header), so nothing hundreds of MB long is read at start-up."""
    digest = hashlib.sha1()
    for path in configs:
        digest.update(path.name.encode() + path.read_bytes())
    for path in weights:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(1 << 16)
            f.seek(max(0, size - (1 << 16)))
            digest.update(f"{path.name}:{size}".encode() + head + f.read())
    return digest.hexdigest()[:10]


def keep_freed_memory() -> None:
    """Ask glibc to keep freed feature maps instead of unmapping them at once.

    By default each tensor of more than a few MB is mmap'ed and munmap'ed per forward pass, so
    the next pass page-faults it back in: about 2,000 faults per musicnn window, 10-15 % of the
    CPU time. Process-wide and harmless elsewhere; a no-op off glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    libc.mallopt(m_mmap_threshold, 32 << 20)
    libc.mallopt(m_trim_threshold, 256 << 20)


def log_mel_db(audio: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor,
               bank: torch.Tensor) -> torch.Tensor:
    """(n, samples) -> (n, 1, frames, mels): centred reflect-padded power STFT, mel bank,
    10*log10(max(x, 1e-10)), on the audio's device (the GPU too), in float32."""
    spec = torch.stft(audio.float(), n_fft, hop_length=hop, window=window, center=True,
                      pad_mode="reflect", return_complex=True)
    power = spec.real.square() + spec.imag.square()  # (n, freqs, frames)
    mel = torch.matmul(power.transpose(1, 2), bank)
    return (10.0 * torch.log10(mel.clamp_min(1e-10))).unsqueeze(1)
