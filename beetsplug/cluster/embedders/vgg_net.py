"""The vgg network of the musicnn wheel (MSD_vgg, MTT_vgg: `musicnn==0.1.0`'s `models.vgg` with
128 filters), ported to PyTorch for inference, and the conversion of its TF weights.

The same log-mel patches as musicnn (musicnn_net.LogMel: 187 frames x 96 bands, 3 s). Five
blocks of 3x3 conv ('same') -> ReLU -> batch norm -> max pool; the pools are (4,1) then (2,2)
four times, all of stride 2 except the last, (4,4) of stride 4, with TF's 'valid' padding:
187 x 96 -> 92 x 48 -> 46 x 24 -> 23 x 12 -> 11 x 6 -> 2 x 1. The 128 x 2 x 1 maps of the last
pool, flattened in TF's (time, freq, channel) order, are the 256-d embedding; one dense layer
gives the 50 tag logits. TF layout: the patch is (time, freq) with time as the height, as in
musicnn_net; batch norms keep TF's epsilon.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .musicnn_net import BN_EPS, Weights

POOLS = (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)),
         ((4, 4), (4, 4)))  # (kernel, stride) after each conv block
EMBEDDING_DIM = 256


class Vgg(nn.Module):
    """(B, 187, 96) log-mel patches -> (embedding (B, 256), logits (B, n_classes))."""

    @torch.no_grad()
    def __init__(self, state: Weights) -> None:
        super().__init__()
        state = {k: v.clone() for k, v in state.items()}
        self.input_bn = nn.BatchNorm2d(1, eps=BN_EPS)
        self.convs = nn.ModuleList(nn.Conv2d(state[f"conv{i}.weight"].shape[1], 128, 3,
                                             padding=1) for i in range(len(POOLS)))
        self.bns = nn.ModuleList(nn.BatchNorm2d(128, eps=BN_EPS) for _ in POOLS)
        self.pools = nn.ModuleList(nn.MaxPool2d(k, s) for k, s in POOLS)
        self.dense = nn.Linear(EMBEDDING_DIM, state["dense.weight"].shape[0])
        self.load_state_dict(_torch_names(state))
        self.eval()

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.input_bn(patches.unsqueeze(1))  # (B, 1, time, freq)
        for conv, bn, pool in zip(self.convs, self.bns, self.pools):
            x = pool(bn(torch.relu(conv(x))))
        flat = x.permute(0, 2, 3, 1).flatten(1)  # TF's flatten of NHWC: time, freq, channel
        return flat, self.dense(flat)


def _torch_names(state: Weights) -> Weights:
    """The converted names (conv{i}, bn{i}) as this module's (convs.{i}, bns.{i})."""
    out = {}
    for key, value in state.items():
        head, _, rest = key.partition(".")
        if head.startswith("conv"):
            head = f"convs.{head[4:]}"
        elif head.startswith("bn"):
            head = f"bns.{head[2:]}"
        out[f"{head}.{rest}"] = value
    return out


def state_dict_from_tf(tensors: dict[str, np.ndarray]) -> Weights:
    """Map a vgg TF checkpoint's variables onto conv{i}, bn{i}, input_bn and dense. The batch
    norms were created in graph order: the input's first, then one after each conv."""
    out: dict[str, np.ndarray] = {}
    for i in range(len(POOLS)):
        out[f"conv{i}.weight"] = tensors[f"{i + 1}CNN/kernel"].transpose(3, 2, 0, 1)
        out[f"conv{i}.bias"] = tensors[f"{i + 1}CNN/bias"]
    for i, name in enumerate(["input_bn", *(f"bn{j}" for j in range(len(POOLS)))]):
        scope = "batch_normalization" + (f"_{i}" if i else "")
        out[f"{name}.weight"] = tensors[f"{scope}/gamma"]
        out[f"{name}.bias"] = tensors[f"{scope}/beta"]
        out[f"{name}.running_mean"] = tensors[f"{scope}/moving_mean"]
        out[f"{name}.running_var"] = tensors[f"{scope}/moving_variance"]
    out["dense.weight"] = tensors["dense/kernel"].T
    out["dense.bias"] = tensors["dense/bias"]
    state = {k: torch.from_numpy(np.ascontiguousarray(v, np.float32)) for k, v in out.items()}
    for name in ["input_bn", *(f"bn{j}" for j in range(len(POOLS)))]:
        state[f"{name}.num_batches_tracked"] = torch.tensor(0)
    return state
