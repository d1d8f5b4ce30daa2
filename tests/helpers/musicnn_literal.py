"""The literal PyTorch port of musicnn's TF graph: the reference the backend's network is
checked against (tests/test_musicnn.py) and benchmarked against (scripts/bench_musicnn.py).

Layer by layer as `musicnn==0.1.0`'s `models.build_musicnn` runs it: every front-end block
is conv -> relu -> batch norm -> max over frequency on the full map. The layer names are the
layout of the backend's weights, so `load_state_dict` takes them as the cache holds them.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from beetsplug.cluster.embedders.musicnn import load_weights
from beetsplug.cluster.embedders.musicnn_net import BN_EPS, N_MELS


def _bn(n: int, dims: int = 2) -> nn.Module:
    return (nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d)(n, eps=BN_EPS)


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


class LiteralMusicnn(nn.Module):
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


def literal_port(model: str, cache_dir: Path) -> LiteralMusicnn:
    """The literal port of `model` with the backend's weights (strictly: every name used)."""
    net = LiteralMusicnn()
    net.load_state_dict(load_weights(model, cache_dir))
    return net.eval()
