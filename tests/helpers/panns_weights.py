"""Random CNN14 weights in the official PANNs checkpoint layout: the tests of the panns backend
load them through the real code; scripts/bench_deep_cpu.py uses them too."""

from __future__ import annotations

import numpy as np
import torch

from beetsplug.cluster.embedders.panns_net import N_FFT, Cnn14, mel_bank


def official_state(seed: int) -> dict[str, torch.Tensor]:
    """Every tensor of the official Cnn14 state dict, random but seeded; the front-end tensors
    hold what torchlibrosa puts there (a windowed DFT as conv weights, librosa's mel bank)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in Cnn14().state_dict().items()}
    state = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=gen) + 0.5
        elif key.endswith(("running_mean", "bias")):
            state[key] = torch.randn(shape, generator=gen) * 0.1
        elif len(shape) == 1:  # batch-norm scale
            state[key] = torch.rand(shape, generator=gen) + 0.5
        else:  # conv / linear: fan-in scaled so activations neither vanish nor explode
            fan_in = int(np.prod(shape[1:]))
            state[key] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
    k, n = np.arange(N_FFT // 2 + 1)[:, None], np.arange(N_FFT)
    dft = np.exp(-2j * np.pi * k * n / N_FFT) * np.hanning(N_FFT + 1)[:-1]
    state["spectrogram_extractor.stft.conv_real.weight"] = torch.tensor(dft.real).float()[:, None]
    state["spectrogram_extractor.stft.conv_imag.weight"] = torch.tensor(dft.imag).float()[:, None]
    state["logmel_extractor.melW"] = mel_bank()
    state["fc_audioset.weight"] = torch.randn(527, 2048, generator=gen) * 0.02
    state["fc_audioset.bias"] = torch.zeros(527)
    return state


def save_official(path, state) -> None:
    """As the PANNs training script saves: the weights under "model", beside the sampler state."""
    sampler = {
        "indexes_per_class": [np.arange(7), np.arange(3)],
        "random_state": np.random.RandomState(0).get_state(),
    }
    torch.save({"iteration": 600000, "model": state, "sampler": sampler}, path)
