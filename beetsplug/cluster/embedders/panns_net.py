"""PANNs CNN14 (Kong et al. 2020) in torch, named like the official AudioSet checkpoints.

Attribute names (`bn0`, `conv_block1..6.{conv1,conv2,bn1,bn2}`, `fc1`) match the state dict of
`Cnn14_mAP=0.431.pth`, so the official weights load as they are. The front end is computed here
with `torch.stft` and the Slaney mel bank librosa makes (feature_plan.mel_bank, built from its
definition) instead of the checkpoint's frozen conv-STFT and `melW` tensors; it is the same
computation (see `LogMel`), and the loader checks the checkpoint's `melW` against ours. The
AudioSet head (`fc_audioset`) is not built: only the embedding is used.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .feature_plan import mel_bank as slaney_mel
from .torchcommon import log_mel_db

SAMPLE_RATE = 32_000
N_FFT = 1024
HOP = 320
N_MELS = 64
FMIN = 50.0
FMAX = 14_000.0
EMBEDDING_DIM = 2048


def mel_bank() -> torch.Tensor:
    """(n_fft // 2 + 1, n_mels): librosa's Slaney mel, as the official `logmel_extractor.melW`."""
    bank = slaney_mel(SAMPLE_RATE, N_FFT, N_MELS, FMIN, FMAX)
    return torch.from_numpy(bank.T).float()


class LogMel(nn.Module):
    """torchlibrosa's Spectrogram + LogmelFilterBank as used by CNN14: centred reflect-padded
    STFT with a periodic Hann window, power 2, mel, 10*log10(max(x, 1e-10)), ref 1, no top_db.
    Buffers are not persistent: they never enter or come from a state dict."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("bank", mel_bank(), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(n, samples) -> (n, 1, frames, mels)."""
        return log_mel_db(audio, N_FFT, HOP, self.window, self.bank)


class ConvBlock(nn.Module):
    """Two 3x3 conv + batch-norm + ReLU layers, then average pooling."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, pool: tuple[int, int]) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.avg_pool2d(x, kernel_size=pool)


class Cnn14(nn.Module):
    """CNN14 up to its 2048-d embedding layer, in inference form (dropout and SpecAugment are
    training-only in the original and left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.front = LogMel()
        self.bn0 = nn.BatchNorm2d(N_MELS)
        widths = (1, 64, 128, 256, 512, 1024, 2048)
        for i in range(6):
            self.add_module(f"conv_block{i + 1}", ConvBlock(widths[i], widths[i + 1]))
        self.fc1 = nn.Linear(2048, EMBEDDING_DIM)

    def features(self, logmel: torch.Tensor) -> torch.Tensor:
        """(n, 1, frames, mels) log-mel -> (n, 2048) embedding, ReLU(fc1) as the original."""
        x = self.bn0(logmel.transpose(1, 3)).transpose(1, 3)  # normalise each mel band
        for i in range(1, 7):
            x = getattr(self, f"conv_block{i}")(x, (2, 2) if i < 6 else (1, 1))
        x = x.mean(dim=3)  # over frequency
        x = x.amax(dim=2) + x.mean(dim=2)  # over time: max + mean
        return F.relu(self.fc1(x))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.features(self.front(audio))
