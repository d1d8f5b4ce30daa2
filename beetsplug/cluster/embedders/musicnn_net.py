"""The musicnn network (Pons & Serra 2019) and its log-mel front end, in PyTorch.

A port of `musicnn==0.1.0`'s `models.build_musicnn` (the MSD_musicnn and MTT_musicnn
graphs: 64 mid-end filters, 200 back-end units). TF layouts map as follows: the input patch
is (time=187, freq=96) with time as the height; TF's 'same' padding of an even kernel k pads
(k-1)//2 before and k//2 after; `tf.layers.flatten` of the back-end's (753, 2) [max, mean]
pool interleaves the two, which `Backend` reproduces. Batch norms keep TF's epsilon (1e-3).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SR, HOP, N_FFT, N_MELS, N_FRAMES = 16000, 256, 512, 96, 187
WINDOW_SAMPLES = (N_FRAMES - 1) * HOP + N_FFT  # 48128: exactly 187 frames, no padding
_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's default


def _bn(n: int, dims: int = 2) -> nn.Module:
    return (nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d)(n, eps=_EPS)


class LogMel(nn.Module):
    """librosa.feature.melspectrogram(center=False) of each window, then log10(10000 mel + 1).

    Float32 throughout: the original's float16 cast of the mel overflows on loud input.
    `mel_basis` is librosa.filters.mel(sr=16000, n_fft=512, n_mels=96) (Slaney, as librosa
    defaults), handed in so this module needs no librosa.
    """

    def __init__(self, mel_basis: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True))
        self.register_buffer("mel_basis", torch.from_numpy(np.asarray(mel_basis, np.float32)))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:  # (B, samples) -> (B, T, 96)
        spec = torch.stft(
            audio.float(), N_FFT, HOP, window=self.window, center=False, return_complex=True
        )
        power = spec.real.square() + spec.imag.square()  # (B, 257, T)
        mel = torch.matmul(self.mel_basis, power)  # (B, 96, T)
        return torch.log10(10000.0 * mel + 1.0).transpose(1, 2)


class _Block(nn.Module):
    """conv -> relu -> batch norm -> max over the whole frequency axis (timbral/temporal)."""

    def __init__(self, filters: int, kernel: tuple[int, int], time_pad: tuple[int, int]) -> None:
        super().__init__()
        self.time_pad = time_pad
        self.conv = nn.Conv2d(1, filters, kernel)
        self.bn = _bn(filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, T, F) -> (B, filters, T)
        x = F.pad(x, (0, 0, *self.time_pad))
        return self.bn(F.relu(self.conv(x))).amax(dim=3)


class _Conv1d(nn.Module):
    """Mid-end layer: a TF conv whose kernel spans all features is a 1-d conv over time."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(n_in, n_out, 7, padding=3)
        self.bn = _bn(n_out, dims=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(F.relu(self.conv(x)))


class MusicnnNet(nn.Module):
    def __init__(self, n_classes: int = 50, midend: int = 64, backend: int = 200) -> None:
        super().__init__()
        self.input_bn = _bn(1)
        # front end: two timbral blocks (7 x 38 and 7 x 67 over 96 bands), three temporal
        timbral = [(204, int(0.4 * N_MELS)), (204, int(0.7 * N_MELS))]
        self.timbral = nn.ModuleList(_Block(f, (7, w), (3, 3)) for f, w in timbral)
        self.temporal = nn.ModuleList(
            _Block(51, (k, 1), ((k - 1) // 2, k // 2)) for k in (128, 64, 32)
        )
        front = 2 * 204 + 3 * 51  # 561
        self.mid = nn.ModuleList([_Conv1d(front, midend), _Conv1d(midend, midend)])
        self.mid.append(_Conv1d(midend, midend))
        pooled = 2 * (front + 3 * midend)  # 1506
        self.pool_bn = _bn(pooled, dims=1)
        self.dense = nn.Linear(pooled, backend)
        self.dense_bn = _bn(backend, dims=1)
        self.out = nn.Linear(backend, n_classes)

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 187, 96) log-mel patches -> (penultimate (B, 200), logits (B, n_classes))."""
        x = self.input_bn(patches.unsqueeze(1))
        front = torch.cat([block(x) for block in (*self.timbral, *self.temporal)], dim=1)
        features = [front]
        h = self.mid[0](front)
        features.append(h)
        for layer in self.mid[1:]:
            h = layer(h) + h  # residual connections of the mid end
            features.append(h)
        feats = torch.cat(features, dim=1)  # (B, 753, T)
        pooled = torch.stack([feats.amax(dim=2), feats.mean(dim=2)], dim=2).flatten(1)
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))
        return penultimate, self.out(penultimate)


def state_dict_from_tf(tensors: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Map a musicnn TF checkpoint's variables (creation order) onto MusicnnNet's names."""
    convs = [
        "timbral.0.conv", "timbral.1.conv", "temporal.0.conv", "temporal.1.conv",
        "temporal.2.conv", "mid.0.conv", "mid.1.conv", "mid.2.conv",
    ]  # fmt: skip
    bns = ["input_bn", *(c.replace(".conv", ".bn") for c in convs), "pool_bn", "dense_bn"]
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(convs):
        scope = "conv2d" + (f"_{i}" if i else "")
        kernel = tensors[f"{scope}/kernel"]  # (kh, kw, in, out)
        if name.startswith("mid"):  # kernel spans all features: (7, C, 1, out) -> (out, C, 7)
            out[f"{name}.weight"] = kernel[:, :, 0, :].transpose(2, 1, 0)
        else:
            out[f"{name}.weight"] = kernel.transpose(3, 2, 0, 1)
        out[f"{name}.bias"] = tensors[f"{scope}/bias"]
    for i, name in enumerate(bns):
        scope = "batch_normalization" + (f"_{i}" if i else "")
        out[f"{name}.weight"] = tensors[f"{scope}/gamma"]
        out[f"{name}.bias"] = tensors[f"{scope}/beta"]
        out[f"{name}.running_mean"] = tensors[f"{scope}/moving_mean"]
        out[f"{name}.running_var"] = tensors[f"{scope}/moving_variance"]
    for name, scope in (("dense", "dense"), ("out", "dense_1")):
        out[f"{name}.weight"] = tensors[f"{scope}/kernel"].T
        out[f"{name}.bias"] = tensors[f"{scope}/bias"]
    state = {k: torch.from_numpy(np.ascontiguousarray(v, np.float32)) for k, v in out.items()}
    for name in bns:  # torch bookkeeping only; unused in eval mode
        state[f"{name}.num_batches_tracked"] = torch.tensor(0)
    return state
