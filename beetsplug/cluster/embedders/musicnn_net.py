"""The network the musicnn backend runs (Pons & Serra 2019), its log-mel front end, and the
conversion of the TF weights.

The graph is `musicnn==0.1.0`'s `models.build_musicnn` (MSD_musicnn and MTT_musicnn: 64
mid-end filters, 200 back-end units), rewritten for inference with less memory traffic; its
literal layer-by-layer port lives in tests/helpers/musicnn_literal.py, where the tests prove that
both give the TensorFlow graph's outputs. The weights keep that literal port's layout (its
layer names, eval-mode batch norms): it is what `state_dict_from_tf` makes and the cache holds.

Where the time goes on a CPU: the front end's convolutions produce (204, 187, 59)-sized maps
per window, and the literal graph then runs ReLU, batch norm and a max over frequency on each
map: three extra passes over tens of MB, which fall out of cache as soon as a batch holds a
few windows. Here the max comes first. Since ReLU is monotonic and batch norm is one affine
map a*y+b per channel,
    max_f(a * relu(z) + b) = a * relu(max_f z) + b          when a >= 0,
                           = a * relu(-max_f(-z)) + b        when a < 0,
and -z is the same convolution with negated weights and bias. So each block is one conv, one
max and a few ops on a (C, 187) map. Batch norms that feed a linear layer fold into it.

TF layouts map as follows: the input patch is (time=187, freq=96) with time as the height;
TF's 'same' padding of an even kernel k pads (k-1)//2 before and k//2 after; `tf.layers.
flatten` of the back-end's (753, 2) [max, mean] pool interleaves the two, which the stack +
flatten below reproduces. Batch norms keep TF's epsilon (1e-3).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SR, HOP, N_FFT, N_MELS, N_FRAMES = 16000, 256, 512, 96, 187
WINDOW_SAMPLES = (N_FRAMES - 1) * HOP + N_FFT  # 48128: exactly 187 frames, no padding
BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's default
FRONT = ("timbral.0", "timbral.1", "temporal.0", "temporal.1", "temporal.2")
MID = ("mid.0", "mid.1", "mid.2")
Weights = dict[str, torch.Tensor]


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


def _under(state: Weights, prefix: str) -> Weights:
    return {k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(prefix + ".")}


def _affine(state: Weights, bn: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode batch norm `bn` as y = a * x + b."""
    a = state[f"{bn}.weight"] / torch.sqrt(state[f"{bn}.running_var"] + BN_EPS)
    return a, state[f"{bn}.bias"] - state[f"{bn}.running_mean"] * a


def _batch_norm(state: Weights, bn: str) -> nn.Module:
    module = nn.BatchNorm1d(len(state[f"{bn}.weight"]), eps=BN_EPS)
    module.load_state_dict(_under(state, bn))
    return module


class _MaxFirstBlock(nn.Module):
    """A front-end block (conv -> relu -> batch norm -> max over frequency), max first."""

    def __init__(self, state: Weights, name: str) -> None:
        super().__init__()
        a, b = _affine(state, f"{name}.bn")
        sign = torch.where(a < 0, -1.0, 1.0)
        weight, bias = state[f"{name}.conv.weight"], state[f"{name}.conv.bias"]
        height = weight.shape[2]
        self.time_pad = ((height - 1) // 2, height // 2)  # TF's 'same' over time
        self.conv = nn.Conv2d(1, weight.shape[0], tuple(weight.shape[2:]))
        self.conv.weight.data = weight * sign[:, None, None, None]
        self.conv.bias.data = bias * sign
        for key, value in (("a", a), ("b", b), ("sign", sign)):
            self.register_buffer(key, value[:, None].clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, T, F) -> (B, C, T)
        peak = self.conv(F.pad(x, (0, 0, *self.time_pad))).amax(dim=3)
        return torch.relu(peak * self.sign) * self.a + self.b


class _MidLayer(nn.Module):
    """conv over time -> relu -> batch norm (a TF conv whose kernel spans all features)."""

    def __init__(self, state: Weights, name: str) -> None:
        super().__init__()
        n_out, n_in, width = state[f"{name}.conv.weight"].shape
        self.conv = nn.Conv1d(n_in, n_out, width, padding=width // 2)
        self.bn = nn.BatchNorm1d(n_out, eps=BN_EPS)
        self.load_state_dict(_under(state, name))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(F.relu(self.conv(x)))


class FastMusicnn(nn.Module):
    """(B, 187, 96) log-mel patches -> (penultimate (B, 200), logits (B, n_classes)), built
    from weights in the literal port's layout (`state_dict_from_tf`). Inference only."""

    @torch.no_grad()
    def __init__(self, state: Weights) -> None:
        super().__init__()
        # Fresh copies: tensors loaded from safetensors may sit at any alignment, and BLAS
        # sums (`weight @ b`) in another order then; same results from cache and conversion.
        state = {k: v.clone() for k, v in state.items()}
        a, b = _affine(state, "input_bn")
        self.in_scale, self.in_shift = float(a), float(b)
        self.front = nn.ModuleList(_MaxFirstBlock(state, name) for name in FRONT)
        self.mid = nn.ModuleList(_MidLayer(state, name) for name in MID)  # (B, 64, 187): small
        a, b = _affine(state, "pool_bn")
        weight, bias = state["dense.weight"], state["dense.bias"]
        self.dense = nn.Linear(weight.shape[1], weight.shape[0])
        self.dense.weight.data = weight * a[None, :]
        self.dense.bias.data = bias + weight @ b
        self.dense_bn = _batch_norm(state, "dense_bn")
        self.out = nn.Linear(*state["out.weight"].shape[::-1])
        self.out.load_state_dict(_under(state, "out"))
        self.eval()

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (patches * self.in_scale + self.in_shift).unsqueeze(1)
        h = torch.cat([block(x) for block in self.front], dim=1)
        features = [h]
        h = self.mid[0](h)
        features.append(h)
        for layer in self.mid[1:]:
            h = layer(h) + h  # residual connections of the mid end
            features.append(h)
        feats = torch.cat(features, dim=1)  # (B, 753, T)
        pooled = torch.stack([feats.amax(dim=2), feats.mean(dim=2)], dim=2).flatten(1)
        penultimate = self.dense_bn(F.relu(self.dense(pooled)))
        return penultimate, self.out(penultimate)


def state_dict_from_tf(tensors: dict[str, np.ndarray]) -> Weights:
    """Map a musicnn TF checkpoint's variables (creation order) onto the literal port's names."""
    convs = [f"{name}.conv" for name in (*FRONT, *MID)]
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
    for name in bns:  # torch's batch-norm bookkeeping; unused in eval mode
        state[f"{name}.num_batches_tracked"] = torch.tensor(0)
    return state
